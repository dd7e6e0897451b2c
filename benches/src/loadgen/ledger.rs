//! Exactly-once accounting: each client remembers which messages reached
//! it, so at the end loadgen knows every lost, duplicated or misdelivered
//! delivery, not just totals.

use super::schedule::Schedule;

/// What one received message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// First copy of a message this client should get.
    Expected,
    /// A message this client should get, again.
    Duplicate,
    /// A message this client should not get at all (its own, another
    /// room's, or a sequence number never scheduled).
    Misdelivered,
}

/// The messages one client has received, as a bitmap by sequence number.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    seen: Vec<u64>,
}

impl Inbox {
    /// An inbox for a run of `total` messages.
    pub fn new(total: u64) -> Self {
        Self { seen: vec![0; total.div_ceil(64) as usize] }
    }

    /// Records message `seq` arriving at `client`.
    pub fn record(&mut self, schedule: &Schedule, client: usize, seq: u64) -> Receipt {
        let Some(word) = self.seen.get_mut((seq / 64) as usize) else {
            return Receipt::Misdelivered;
        };
        let bit = 1u64 << (seq % 64);
        let first = *word & bit == 0;
        *word |= bit;
        match (schedule.expects(client, seq), first) {
            (false, _) => Receipt::Misdelivered,
            (true, true) => Receipt::Expected,
            (true, false) => Receipt::Duplicate,
        }
    }

    /// Whether message `seq` has arrived.
    pub fn has(&self, seq: u64) -> bool {
        self.seen.get((seq / 64) as usize).is_some_and(|w| w & (1 << (seq % 64)) != 0)
    }
}

/// Deliveries that should have happened and did not.
///
/// `inboxes[i]` is client `i`'s; `unsent` lists messages whose send failed
/// (nobody should expect those). Only scheduled messages up to `sent_up_to`
/// (exclusive) count: a run cut short never sent the rest.
pub fn lost(schedule: &Schedule, inboxes: &[Inbox], sent_up_to: u64, unsent: &[u64]) -> u64 {
    let clients = schedule.clients;
    let mut lost = 0;
    for (client, inbox) in inboxes.iter().enumerate() {
        // Only the messages of this client's roommates: work in proportion
        // to the deliveries expected, not to clients × messages.
        let room = schedule.room_of(client);
        let mates = (room..schedule.clients).step_by(schedule.rooms).filter(|&m| m != client);
        for mate in mates {
            for seq in (mate as u64..sent_up_to).step_by(clients) {
                if !inbox.has(seq) && unsent.binary_search(&seq).is_err() {
                    lost += 1;
                }
            }
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn schedule() -> Schedule {
        // 4 clients in 2 rooms: {0, 2} and {1, 3}; 8 messages.
        Schedule::new(4.0, 4, 2, Duration::ZERO, Duration::from_secs(2))
    }

    #[test]
    fn classifies_each_receipt() {
        let s = schedule();
        let mut inbox = Inbox::new(s.total);
        assert_eq!(inbox.record(&s, 0, 2), Receipt::Expected); // from client 2, same room
        assert_eq!(inbox.record(&s, 0, 2), Receipt::Duplicate);
        assert_eq!(inbox.record(&s, 0, 1), Receipt::Misdelivered); // other room
        assert_eq!(inbox.record(&s, 0, 4), Receipt::Misdelivered); // its own
        assert_eq!(inbox.record(&s, 0, 99), Receipt::Misdelivered); // never scheduled
        assert!(inbox.has(2) && !inbox.has(6));
    }

    #[test]
    fn counts_exactly_what_is_missing() {
        let s = schedule();
        let mut inboxes = vec![Inbox::new(s.total); 4];
        for seq in 0..s.total {
            for (client, inbox) in inboxes.iter_mut().enumerate() {
                if s.expects(client, seq) {
                    inbox.record(&s, client, seq);
                }
            }
        }
        assert_eq!(lost(&s, &inboxes, s.total, &[]), 0);
        let mut missing = inboxes.clone();
        missing[3] = Inbox::new(s.total); // client 3 expected messages 1 and 5 (from client 1)
        assert_eq!(lost(&s, &missing, s.total, &[]), 2);
        assert_eq!(lost(&s, &missing, s.total, &[5]), 1);
        assert_eq!(lost(&s, &missing, 2, &[]), 1);
    }
}
