//! The open-loop schedule: message `seq` is due at `seq / rate` seconds
//! after the start, from client `seq % clients`, whatever the server does.
//! Latency is measured from that intended time, so a server that stalls
//! cannot hide the stall by slowing the sender down.

use std::time::Duration;

/// Who sends what when, and who should receive it.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Messages per second, all senders together.
    pub rate: f64,
    /// Clients taking part; client `i` sits in room `i % rooms`.
    pub clients: usize,
    /// Rooms the clients are spread over.
    pub rooms: usize,
    /// Messages sent in the whole run (warm-up included).
    pub total: u64,
    /// Warm-up: messages due before it are sent and checked for loss but
    /// not timed.
    pub warmup: Duration,
}

impl Schedule {
    /// A schedule of `rate` messages per second for `warmup + duration`.
    pub fn new(rate: f64, clients: usize, rooms: usize, warmup: Duration, duration: Duration) -> Self {
        let rooms = rooms.clamp(1, clients.max(1));
        let total =
            if rate > 0.0 && clients > 1 { (rate * (warmup + duration).as_secs_f64()).ceil() as u64 } else { 0 };
        Self { rate, clients, rooms, total, warmup }
    }

    /// When message `seq` is due, in nanoseconds after the start.
    pub fn due_ns(&self, seq: u64) -> u64 {
        (seq as f64 * 1e9 / self.rate) as u64
    }

    /// The client that sends message `seq`.
    pub fn sender(&self, seq: u64) -> usize {
        (seq % self.clients as u64) as usize
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

    /// Deliveries per second the schedule offers.
    pub fn offered_deliveries_per_sec(&self) -> f64 {
        let per_message: f64 =
            (0..self.rooms).map(|r| self.room_size(r) as f64 * (self.room_size(r) as f64 - 1.0)).sum::<f64>()
                / self.clients as f64;
        self.rate * per_message
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
    }
}
