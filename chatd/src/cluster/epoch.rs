//! The epoch: a random value set once in the key `epoch` (`SET NX`) and
//! never changed. Every node remembers it; when Redis restarts with nothing
//! kept, or is wiped, the key is gone, the first node to notice sets a new
//! one, and every node learns that what it had put in Redis (names,
//! presence, stream entries) may be lost, and puts it back.

use redis::{Connection, RedisResult};

use super::Keys;

/// The epoch now, if any node has set one.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn current(conn: &mut Connection, keys: &Keys) -> RedisResult<Option<String>> {
    redis::cmd("GET").arg(keys.epoch()).query(conn)
}

/// The epoch, set to a new random value first if there is none. Every
/// node racing to set it gets the same answer.
///
/// # Errors
///
/// When Redis fails or does not answer.
pub fn ensure(conn: &mut Connection, keys: &Keys) -> RedisResult<String> {
    let fresh = random_value();
    // NX with GET: the value already there, or nil when ours was set.
    let before: Option<String> = redis::cmd("SET").arg(keys.epoch()).arg(&fresh).arg("NX").arg("GET").query(conn)?;
    Ok(before.unwrap_or(fresh))
}

/// 128 random bits in hex; the time, should the system have no randomness,
/// still differs between two wipes.
fn random_value() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        bytes = now.as_nanos().to_le_bytes();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
