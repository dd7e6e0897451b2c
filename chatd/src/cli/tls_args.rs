//! The TLS flags (the listeners they start are `tls.rs`'s).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{OptionalAddr, Seconds, optional_addr, ranges, seconds};

/// TLS: which listeners serve it, with which certificate, and whether
/// passwords may still travel in the clear.
#[derive(Debug, Args)]
#[command(next_help_heading = "TLS")]
pub(crate) struct TlsArgs {
    /// The certificate chain for every TLS listener: a PEM file, the
    /// server's certificate first, then its intermediates.
    ///
    /// Read at start and again on SIGHUP (a renewed certificate needs no
    /// restart; connections already open keep theirs).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert: a PEM file (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,

    /// Address to serve text and JSON clients over TLS on, IP:PORT, or
    /// `none`.
    ///
    /// Printed on stdout as `tls listening on ADDR`, after the plain
    /// listeners' lines. Needs --tls-cert and --tls-key.
    #[arg(long, value_name = "ADDR", default_value = "none", value_parser = optional_addr)]
    pub(crate) tls_listen: OptionalAddr,

    /// Address to serve IRC over TLS on, IP:PORT (6697 by convention), or
    /// `none`.
    ///
    /// Printed on stdout as `irc tls listening on ADDR`.
    #[arg(long, value_name = "ADDR", default_value = "none", value_parser = optional_addr)]
    pub(crate) irc_tls_listen: OptionalAddr,

    /// Address to serve HTTPS and secure WebSockets (wss) on, IP:PORT, or
    /// `none`.
    ///
    /// Printed on stdout as `https listening on ADDR`.
    #[arg(long, value_name = "ADDR", default_value = "none", value_parser = optional_addr)]
    pub(crate) https_listen: OptionalAddr,

    /// Seconds a new TLS connection has to finish its handshake before it
    /// is closed.
    #[arg(long, value_name = "SECS", default_value_t = Seconds(Duration::from_secs(10)),
          value_parser = seconds(ranges::TLS_HANDSHAKE_TIMEOUT))]
    pub(crate) tls_handshake_timeout: Seconds,

    /// Accept passwords on plain connections from other hosts even though a
    /// TLS listener is configured.
    ///
    /// By default, once any TLS listener is configured, /register, /login,
    /// SASL and NickServ on a plain connection are refused (naming the TLS
    /// port) unless it comes from 127.0.0.1 or ::1: a password sent in the
    /// clear can be read by anyone on the path, and a server that offers
    /// TLS should not let clients leak them by mistake.
    #[arg(long)]
    pub(crate) allow_plain_passwords: bool,
}

impl TlsArgs {
    /// Whether any TLS listener is asked for.
    pub(crate) fn any_listener(&self) -> bool {
        [self.tls_listen, self.irc_tls_listen, self.https_listen].iter().any(|a| a.0.is_some())
    }
}
