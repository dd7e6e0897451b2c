//! The open-file limit: every connection is a file descriptor, so loadgen
//! raises its soft limit to the hard one and refuses at once a run that
//! cannot fit under it.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept for everything that is not a client connection:
/// standard streams, the reactor, probe connections, `/proc` reads.
pub const RESERVE: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft
/// limit in force afterwards (`u64::MAX` for unlimited).
pub fn raise() -> u64 {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let _ = setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum });
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Whether `clients` connections fit under an open-file limit of `limit`;
/// if not, what to tell the user.
pub fn check(clients: usize, limit: u64) -> Result<(), String> {
    let allowed = limit.saturating_sub(RESERVE);
    if clients as u64 <= allowed {
        return Ok(());
    }
    Err(format!(
        "--clients {clients} needs {} open files, but this process may open at most {limit} \
         (RLIMIT_NOFILE, already raised to its hard limit), which allows {allowed} clients. \
         Raise the hard limit first: `ulimit -n N` in the shell that starts loadgen (as root, or \
         within the hard limit), or `prlimit --pid PID --nofile=N:N` as root (CAP_SYS_RESOURCE); \
         N may be at most fs.nr_open (`sysctl fs.nr_open`).",
        clients as u64 + RESERVE
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_runs_over_the_limit_and_says_how_many_fit() {
        assert_eq!(check(19_936, 20_000), Ok(()));
        let refusal = check(19_937, 20_000).expect_err("over the limit");
        assert!(refusal.contains("at most 20000"), "{refusal}");
        assert!(refusal.contains("allows 19936 clients"), "{refusal}");
        assert!(refusal.contains("prlimit --pid PID --nofile=N:N"), "{refusal}");
        assert!(refusal.contains("ulimit -n"), "{refusal}");
        assert_eq!(check(1_000_000, u64::MAX), Ok(()));
        assert!(check(1, 10).is_err());
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let soft = raise();
        assert_eq!(Some(soft), getrlimit(Resource::Nofile).maximum.or(Some(u64::MAX)));
        assert!(soft >= 64);
    }
}
