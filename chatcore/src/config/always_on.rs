//! The server's policy for always-on accounts (`Config::always_on`); what
//! always-on does is in the crate's `always_on` module.

use std::fmt;
use std::str::FromStr;

/// Whether accounts stay in their rooms while none of their connections
/// is ([`Config::always_on`](crate::Config::always_on)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlwaysOn {
    /// Each user chooses, with `/always-on on|off`; off until then.
    #[default]
    Optional,
    /// Every account is always-on.
    ForcedOn,
    /// No account is.
    ForcedOff,
}

impl AlwaysOn {
    /// Its spelling in chatd's flags: `optional`, `forced_on`, `forced_off`.
    ///
    /// ```
    /// assert_eq!(chatcore::AlwaysOn::ForcedOn.as_str(), "forced_on");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Optional => "optional",
            Self::ForcedOn => "forced_on",
            Self::ForcedOff => "forced_off",
        }
    }
}

impl fmt::Display for AlwaysOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy name that is none of `optional`, `forced_on`, `forced_off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected optional, forced_on or forced_off")]
pub struct ParseAlwaysOnError;

impl FromStr for AlwaysOn {
    type Err = ParseAlwaysOnError;

    /// ```
    /// assert_eq!("forced_off".parse(), Ok(chatcore::AlwaysOn::ForcedOff));
    /// assert!("maybe".parse::<chatcore::AlwaysOn>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Optional, Self::ForcedOn, Self::ForcedOff]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(ParseAlwaysOnError)
    }
}
