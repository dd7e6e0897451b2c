//! Flag values with rules of their own: an address or `none`, an origin,
//! a host name, seconds with fractions, counts and names within their ranges.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use chatcore::ranges::{Range, TextRule};

use crate::store::DatabaseUrl;

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
        // A control character (a line break) is no part of a host: no
        // browser sends such an origin, so it can only be a mistake.
        Some(a) if !a.is_empty() && !a.contains(['/', '?', '#', ' ', '@']) && !a.contains(char::is_control) => {
            Ok(text.to_owned())
        }
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

/// A flag's value parser for a count within `range`: the engine's own
/// ranges ([`chatcore::ranges`]) or chatd's ([`super::ranges`]), so that a
/// value is refused alike on the command line, in a config file, and by the
/// engine.
pub(crate) fn count<T>(range: Range<u64>) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
{
    move |text: &str| {
        let text = text.trim();
        let out_of_range = || format!("{text} is out of range: it must be {range}");
        let value: u64 = text.parse().map_err(|_| {
            // All digits but too many for any count: out of range all the same.
            let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
            if digits { out_of_range() } else { format!("{text:?} is not a whole number") }
        })?;
        if !range.contains(value) {
            return Err(out_of_range());
        }
        T::try_from(value).map_err(|_| out_of_range())
    }
}

/// A flag's value parser for seconds within `range` (see [`count`]).
pub(crate) fn seconds(
    range: Range<Duration>,
) -> impl Fn(&str) -> Result<Seconds, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let secs: Seconds = text.parse()?;
        if !range.contains(secs.0) {
            return Err(format!("{} is out of range: it must be {range}", text.trim()));
        }
        Ok(secs)
    }
}

/// A flag's value parser for a name or password that `rule` allows.
pub(crate) fn text(rule: TextRule) -> impl Fn(&str) -> Result<String, String> + Clone + Send + Sync + 'static {
    move |text: &str| rule.check(text).map(|()| text.to_owned()).map_err(|problem| format!("the value {problem}"))
}

/// `--database-url`'s parser. Not clap's default for a `FromStr` type,
/// whose error repeats the value: a URL may hold a password, and errors
/// end up in terminals, logs and CI output.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DatabaseUrlParser;

impl clap::builder::TypedValueParser for DatabaseUrlParser {
    type Value = DatabaseUrl;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<DatabaseUrl, clap::Error> {
        let refused = |problem: &dyn fmt::Display| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "the database URL is not one like postgres://USER@HOST:PORT/DATABASE ({problem}); \
                     it is not repeated here, as it may hold a password\n"
                ),
            )
            .with_cmd(command)
        };
        let text = value.to_str().ok_or_else(|| refused(&"it is not UTF-8"))?;
        text.parse().map_err(|error: postgres::Error| refused(&error))
    }
}
