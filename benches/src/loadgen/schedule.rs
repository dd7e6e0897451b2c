//! Who sends what when. Two paces:
//!
//! * steady (open loop): message `seq` is due at `seq / rate` seconds after
//!   the start, from client `seq % clients`, whatever the server does.
//! * burst: senders `0..S` each write `B` messages at the same instant, a
//!   gap after the start, then again a gap later, `K` times in all. Burst
//!   `k` holds messages `k·S·B .. (k+1)·S·B`; message `seq` comes from
//!   sender `seq % S`.
//!
//! Either way latency is measured from the intended time (for a burst, its
//! release), so a server that stalls cannot hide the stall by slowing the
//! senders down.

use std::time::Duration;

/// How messages are spaced in time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Evenly, `rate` messages per second from all senders together.
    Steady {
        /// Messages per second.
        rate: f64,
    },
    /// All at once: each sender writes `lines` messages at every release;
    /// releases are `gap` apart, the first one `gap` after the start.
    Burst {
        /// Messages each sender writes per burst.
        lines: u64,
        /// Bursts in the run.
        bursts: u64,
        /// Quiet time before each burst.
        gap: Duration,
    },
}

/// Who sends what when, and who should receive it.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// How messages are spaced.
    pub pace: Pace,
    /// Clients taking part; client `i` sits in room `i % rooms`.
    pub clients: usize,
    /// Rooms the clients are spread over.
    pub rooms: usize,
    /// Clients that send: `0..senders` (every client on a steady pace).
    pub senders: usize,
    /// Messages sent in the whole run (warm-up included).
    pub total: u64,
    /// Warm-up: messages due before it are sent and checked for loss but
    /// not timed.
    pub warmup: Duration,
}

impl Schedule {
    /// A steady schedule of `rate` messages per second for `warmup + duration`.
    pub fn new(rate: f64, clients: usize, rooms: usize, warmup: Duration, duration: Duration) -> Self {
        let rooms = rooms.clamp(1, clients.max(1));
        let total =
            if rate > 0.0 && clients > 1 { (rate * (warmup + duration).as_secs_f64()).ceil() as u64 } else { 0 };
        Self { pace: Pace::Steady { rate }, clients, rooms, senders: clients.max(1), total, warmup }
    }

    /// A burst schedule: clients `0..senders` each write `lines` messages
    /// at once, `bursts` times, each burst `gap` after the one before (the
    /// first `gap` after the start). Every message is timed.
    pub fn burst(clients: usize, rooms: usize, senders: usize, lines: u64, bursts: u64, gap: Duration) -> Self {
        let rooms = rooms.clamp(1, clients.max(1));
        let senders = senders.clamp(1, clients.max(1));
        let total = if clients > 1 { senders as u64 * lines * bursts } else { 0 };
        Self { pace: Pace::Burst { lines, bursts, gap }, clients, rooms, senders, total, warmup: Duration::ZERO }
    }

    /// When message `seq` is due, in nanoseconds after the start.
    pub fn due_ns(&self, seq: u64) -> u64 {
        match self.pace {
            Pace::Steady { rate } => (seq as f64 * 1e9 / rate) as u64,
            Pace::Burst { lines, gap, .. } => {
                let burst = seq / (self.senders as u64 * lines);
                (burst + 1) * gap.as_nanos() as u64
            }
        }
    }

    /// The client that sends message `seq`.
    pub fn sender(&self, seq: u64) -> usize {
        (seq % self.senders as u64) as usize
    }

    /// The messages of burst `burst`, every sender's (empty on a steady pace).
    pub fn burst_range(&self, burst: u64) -> std::ops::Range<u64> {
        let Pace::Burst { lines, .. } = self.pace else { return 0..0 };
        let per_burst = self.senders as u64 * lines;
        burst * per_burst..(burst + 1) * per_burst
    }

    /// The messages `sender` writes in burst `burst`, in order (none on a
    /// steady pace, or for a client that is not a sender).
    pub fn burst_lines(&self, burst: u64, sender: usize) -> impl Iterator<Item = u64> + use<> {
        let (lines, first) = match self.pace {
            Pace::Burst { lines, .. } if sender < self.senders => (lines, self.burst_range(burst).start),
            _ => (0, 0),
        };
        let (senders, sender) = (self.senders as u64, sender as u64);
        (0..lines).map(move |line| first + line * senders + sender)
    }

    /// The room client `client` sits in.
    pub fn room_of(&self, client: usize) -> usize {
        client % self.rooms
    }

    /// Clients in room `room`.
    pub fn room_size(&self, room: usize) -> usize {
        self.clients / self.rooms + usize::from(room < self.clients % self.rooms)
    }

    /// Whether `client` should receive message `seq`: it shares the
    /// sender's room and is not the sender.
    pub fn expects(&self, client: usize, seq: u64) -> bool {
        let sender = self.sender(seq);
        sender != client && self.room_of(sender) == self.room_of(client)
    }

    /// Deliveries message `seq` should make.
    pub fn fanout(&self, seq: u64) -> u64 {
        self.room_size(self.room_of(self.sender(seq))) as u64 - 1
    }

    /// Whether message `seq` is due inside the measurement window.
    pub fn timed(&self, seq: u64) -> bool {
        self.due_ns(seq) >= self.warmup.as_nanos() as u64
    }

    /// Deliveries per second a steady schedule offers (0 for bursts).
    pub fn offered_deliveries_per_sec(&self) -> f64 {
        let Pace::Steady { rate } = self.pace else { return 0.0 };
        let per_message: f64 =
            (0..self.rooms).map(|r| self.room_size(r) as f64 * (self.room_size(r) as f64 - 1.0)).sum::<f64>()
                / self.clients as f64;
        rate * per_message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(rate: f64, clients: usize, rooms: usize) -> Schedule {
        Schedule::new(rate, clients, rooms, Duration::from_secs(1), Duration::from_secs(2))
    }

    #[test]
    fn spaces_messages_evenly_and_counts_them() {
        let s = schedule(1000.0, 10, 1);
        assert_eq!(s.total, 3000);
        assert_eq!(s.due_ns(0), 0);
        assert_eq!(s.due_ns(1), 1_000_000);
        assert_eq!(s.due_ns(2500), 2_500_000_000);
        assert!(!s.timed(999));
        assert!(s.timed(1000));
    }

    #[test]
    fn senders_rotate_and_rooms_partition_the_clients() {
        let s = schedule(100.0, 10, 3);
        assert_eq!((0..12).map(|k| s.sender(k)).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
        assert_eq!([s.room_size(0), s.room_size(1), s.room_size(2)], [4, 3, 3]);
        // Message 4 comes from client 4, in room 1 with clients 1 and 7.
        let recipients: Vec<usize> = (0..10).filter(|&c| s.expects(c, 4)).collect();
        assert_eq!(recipients, [1, 7]);
        assert_eq!(s.fanout(4), 2);
        assert_eq!(s.fanout(3), 3);
    }

    #[test]
    fn offered_rate_counts_every_other_member() {
        let s = schedule(1500.0, 1000, 1);
        assert_eq!(s.offered_deliveries_per_sec(), 1500.0 * 999.0);
        let s = schedule(100.0, 10, 2);
        assert_eq!(s.offered_deliveries_per_sec(), 400.0);
    }

    #[test]
    fn nothing_to_send_without_rate_or_peers() {
        assert_eq!(schedule(0.0, 10, 1).total, 0);
        assert_eq!(schedule(100.0, 1, 1).total, 0);
        assert_eq!(schedule(100.0, 4, 9).rooms, 4);
        assert_eq!(Schedule::burst(1, 1, 1, 10, 1, Duration::ZERO).total, 0);
    }

    #[test]
    fn a_burst_releases_every_senders_lines_at_once_a_gap_apart() {
        // 7 clients in 2 rooms ({0, 2, 4, 6} and {1, 3, 5}); clients 0..3
        // send 2 lines each per burst, 2 bursts, 100 ms before each.
        let s = Schedule::burst(7, 2, 3, 2, 2, Duration::from_millis(100));
        assert_eq!(s.total, 12);
        assert_eq!((s.burst_range(0), s.burst_range(1)), (0..6, 6..12));
        let burst = |k| (0..7).map(|c| s.burst_lines(k, c).collect::<Vec<_>>()).collect::<Vec<_>>();
        assert_eq!(burst(0), [vec![0, 3], vec![1, 4], vec![2, 5], vec![], vec![], vec![], vec![]]);
        assert_eq!(burst(1), [vec![6, 9], vec![7, 10], vec![8, 11], vec![], vec![], vec![], vec![]]);
        // Everything in a burst is due at its release, and nothing is untimed.
        assert_eq!(
            (0..12).map(|seq| s.due_ns(seq) / 1_000_000).collect::<Vec<_>>(),
            [100; 6].iter().chain(&[200; 6]).copied().collect::<Vec<_>>()
        );
        assert!((0..12).all(|seq| s.timed(seq)));
        for seq in 0..12 {
            let from = s.sender(seq);
            assert!(s.burst_lines(seq / 6, from).any(|k| k == seq), "{seq} is in its sender's burst");
        }
        // Message 4 is sender 1's: for clients 3 and 5; 5 is sender 2's: for 0, 4 and 6.
        assert_eq!((0..7).filter(|&c| s.expects(c, 4)).collect::<Vec<_>>(), [3, 5]);
        assert_eq!((0..7).filter(|&c| s.expects(c, 5)).collect::<Vec<_>>(), [0, 4, 6]);
        assert_eq!((s.fanout(4), s.fanout(5)), (2, 3));
        assert_eq!(s.offered_deliveries_per_sec(), 0.0);
    }

    #[test]
    fn burst_senders_default_to_every_client_and_never_exceed_them() {
        let s = Schedule::burst(41, 1, 99, 10, 1, Duration::from_secs(1));
        assert_eq!((s.senders, s.total), (41, 410));
        let s = Schedule::burst(41, 1, 40, 10, 1, Duration::from_secs(1));
        assert_eq!((s.senders, s.total, s.fanout(0)), (40, 400, 40));
        assert!((0..s.total).all(|seq| s.expects(40, seq)), "the one reader gets every line");
    }
}
