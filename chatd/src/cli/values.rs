//! Flag values with rules of their own: an address or `none`, an origin,
//! a host name, seconds with fractions, counts of at least one.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// An address to listen on, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionalAddr(pub(crate) Option<SocketAddr>);

pub(crate) fn optional_addr(text: &str) -> Result<OptionalAddr, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(OptionalAddr(None));
    }
    text.parse().map(|addr| OptionalAddr(Some(addr))).map_err(|_| format!("{text:?} is not IP:PORT or none"))
}

/// A web origin: `http://` or `https://`, a host and maybe a port, nothing
/// after (a browser's `Origin` has no path).
pub(super) fn origin(text: &str) -> Result<String, String> {
    let rest = text.strip_prefix("http://").or_else(|| text.strip_prefix("https://"));
    let authority = rest.map(|r| r.strip_suffix('/').unwrap_or(r));
    match authority {
        Some(a) if !a.is_empty() && !a.contains(['/', '?', '#', ' ', '@']) => Ok(text.to_owned()),
        _ => Err(format!("{text:?} is not an origin like https://chat.example.com or http://host:8080")),
    }
}

/// A host name (or an IP address) as a browser writes it in `Host`,
/// without a port.
pub(super) fn host_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let literal = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    if ok || literal.parse::<std::net::IpAddr>().is_ok() {
        Ok(name.to_owned())
    } else {
        Err(format!("{text:?} is not a host name like chat.example.com (no scheme, no port)"))
    }
}

/// A duration given on the command line in seconds, fractions allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seconds(pub(crate) Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

impl FromStr for Seconds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
        Duration::try_from_secs_f64(secs)
            .map(Seconds)
            .map_err(|_| format!("{s:?} is not a duration of zero or more seconds"))
    }
}

/// A count that must be at least 1 (a zero-capacity channel or queue would
/// stall or refuse everything).
pub(super) fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}
