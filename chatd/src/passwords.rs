//! Password hashing for the engine's `HashPassword` and `VerifyPassword`
//! requests: argon2id with OWASP's minimum parameters (19 MiB of memory,
//! 2 passes, 1 lane), run on smol's blocking pool so that the engine task
//! never waits on it.

use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use chatcore::{Password, PasswordHash};

/// Memory per hash in KiB (OWASP: at least 19 MiB for argon2id with t = 2).
pub(crate) const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub(crate) const PASSES: u32 = 2;
/// Lanes.
pub(crate) const LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("the constants are valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes with a fresh random salt into a PHC string; `None` if it failed
/// (the engine then tells the user to try again).
pub(crate) async fn hash(password: Password) -> Option<PasswordHash> {
    smol::unblock(move || match argon2().hash_password(password.expose().as_bytes()) {
        Ok(phc) => Some(PasswordHash::new(phc.to_string())),
        Err(error) => {
            tracing::error!(%error, "password hashing failed");
            None
        }
    })
    .await
}

/// Checks a password against a stored PHC string; a malformed hash counts
/// as a mismatch. With no hash (a name without an account), checks against
/// a stand-in so the answer (`false`) takes as long as a real check.
pub(crate) async fn verify(password: Password, hash: Option<PasswordHash>) -> bool {
    smol::unblock(move || {
        let Some(hash) = hash else {
            if let Some(stand_in) = stand_in() {
                let _ = argon2().verify_password(password.expose().as_bytes(), &stand_in);
            }
            return false;
        };
        let Ok(phc) = Phc::new(hash.expose()) else {
            tracing::error!("a stored password hash is malformed");
            return false;
        };
        argon2().verify_password(password.expose().as_bytes(), &phc).is_ok()
    })
    .await
}

/// A hash with the same parameters as real ones, made once, for checks
/// against names without an account. Its password does not matter: such a
/// check is answered `false` whatever it finds.
fn stand_in() -> Option<Phc> {
    static STAND_IN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let phc = STAND_IN.get_or_init(|| argon2().hash_password(b"no account").ok().map(|phc| phc.to_string()));
    phc.as_deref().and_then(|phc| Phc::new(phc).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify_only_the_right_password() {
        smol::block_on(async {
            let first = hash(Password::new("correct horse")).await.unwrap();
            let second = hash(Password::new("correct horse")).await.unwrap();
            assert!(first.expose().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", first.expose());
            assert_ne!(first, second, "each hash has its own salt");
            assert!(!first.expose().contains("correct horse"));
            assert!(verify(Password::new("correct horse"), Some(first.clone())).await);
            assert!(!verify(Password::new("correct horsE"), Some(first)).await);
            assert!(!verify(Password::new("x"), Some(PasswordHash::new("not a phc string"))).await);
        });
    }

    #[test]
    fn a_name_without_an_account_costs_a_real_check_and_never_matches() {
        smol::block_on(async {
            let real = hash(Password::new("correct horse")).await.unwrap();
            let started = std::time::Instant::now();
            assert!(!verify(Password::new("wrong horse"), Some(real)).await);
            let with_account = started.elapsed();
            let started = std::time::Instant::now();
            assert!(!verify(Password::new("correct horse"), None).await);
            let without = started.elapsed();
            // The stand-in check does argon2's work (milliseconds), not nothing (microseconds).
            assert!(without * 4 > with_account, "{without:?} against {with_account:?}");
        });
    }
}
