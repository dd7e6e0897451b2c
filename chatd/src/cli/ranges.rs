//! The values chatd's own flags accept (the engine's are in
//! [`chatcore::ranges`]). Each is wide enough for a real deployment and
//! narrow enough that no single flag can exhaust memory, threads or
//! descriptors, or make a timer fire so often it is all chatd does.

use std::time::Duration;

use chatcore::ranges::Range;

const fn count(min: u64, max: u64, zero_is_off: bool) -> Range<u64> {
    Range { min, max, zero_is_off }
}

const fn secs(min_millis: u64, max_secs: u64, zero_is_off: bool) -> Range<Duration> {
    Range { min: Duration::from_millis(min_millis), max: Duration::from_secs(max_secs), zero_is_off }
}

/// `--ws-ping-interval`: 0 (never) or 0.1 s to a day.
pub(crate) const WS_PING_INTERVAL: Range<Duration> = secs(100, 86_400, true);
/// `--send-queue-bytes`: 1 KiB to 1 GiB.
pub(crate) const SEND_QUEUE_BYTES: Range<u64> = count(1 << 10, 1 << 30, false);
/// `--send-queue-grace`: 0 (none) or 0.1 s to 10 minutes.
pub(crate) const SEND_QUEUE_GRACE: Range<Duration> = secs(100, 600, true);
/// `--send-queue-max-bytes`: 1 KiB to 4 GiB.
pub(crate) const SEND_QUEUE_MAX_BYTES: Range<u64> = count(1 << 10, 4 << 30, false);
/// `--max-per-ip`: 0 (no cap) or 1 to 10 million.
pub(crate) const MAX_PER_IP: Range<u64> = count(1, 10_000_000, true);
/// `--max-pending-connections`: 1 to 1 million (each holds a descriptor and
/// up to 8 KiB; the open-file limit lowers it further at start).
pub(crate) const MAX_PENDING_CONNECTIONS: Range<u64> = count(1, 1_000_000, false);
/// `--inbound-capacity`: 1 to 1 million events (about 4 GiB at most).
pub(crate) const INBOUND_CAPACITY: Range<u64> = count(1, 1 << 20, false);
/// `--threads`: 1 to 1,024.
pub(crate) const THREADS: Range<u64> = count(1, 1_024, false);
/// `--hash-threads`: 1 to 64, so password work holds at most 1.2 GiB
/// (64 × 19 MiB); the default, the number of CPUs, is capped alike.
pub(crate) const HASH_THREADS: Range<u64> = count(1, 64, false);
/// `--hash-queue`: 0 (refuse when every thread is busy) to 100,000.
pub(crate) const HASH_QUEUE: Range<u64> = count(0, 100_000, false);
/// `--retain-days`: 1 day to 100 years.
pub(crate) const RETAIN_DAYS: Range<u64> = count(1, 36_500, false);
/// `--retain-messages`: 1 to 1 billion per room.
pub(crate) const RETAIN_MESSAGES: Range<u64> = count(1, 1_000_000_000, false);
/// `--node-lease`: 0.1 s to an hour.
pub(crate) const NODE_LEASE: Range<Duration> = secs(100, 3_600, false);
/// `--commit-timeout`: 0 (never) or 0.1 s to 10 minutes.
pub(crate) const COMMIT_TIMEOUT: Range<Duration> = secs(100, 600, true);
/// `--tls-handshake-timeout`: 0.1 s to 10 minutes.
pub(crate) const TLS_HANDSHAKE_TIMEOUT: Range<Duration> = secs(100, 600, false);
