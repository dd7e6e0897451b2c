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

/// Deliveries that should have happened and did not, split by whether a
/// client cut by the server explains them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lost {
    /// Every expected delivery that never arrived.
    pub total: u64,
    /// Of those, deliveries to clients that were cut.
    pub to_cut: u64,
    /// Of the rest, messages whose sender was cut (the server may never
    /// have read them).
    pub from_cut: u64,
}

/// Counts the deliveries that should have happened and did not.
///
/// `inboxes[i]` is client `i`'s; `unsent` lists messages whose send failed
/// (nobody should expect those); `cut[i]` says whether client `i` was cut.
/// Only scheduled messages up to `sent_up_to` (exclusive) count: a run cut
/// short never sent the rest.
pub fn lost(schedule: &Schedule, inboxes: &[Inbox], sent_up_to: u64, unsent: &[u64], cut: &[bool]) -> Lost {
    let was_cut = |client: usize| cut.get(client).copied().unwrap_or(false);
    let mut lost = Lost::default();
    for (client, inbox) in inboxes.iter().enumerate() {
        // Only the messages of this client's roommates: work in proportion
        // to the deliveries expected, not to clients × messages.
        let room = schedule.room_of(client);
        let mates = (room..schedule.clients).step_by(schedule.rooms).filter(|&m| m != client);
        for mate in mates {
            let missing = (mate as u64..sent_up_to)
                .step_by(schedule.clients)
                .filter(|&seq| !inbox.has(seq) && unsent.binary_search(&seq).is_err())
                .count() as u64;
            lost.total += missing;
            if was_cut(client) {
                lost.to_cut += missing;
            } else if was_cut(mate) {
                lost.from_cut += missing;
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
        let count =
            |inboxes: &[Inbox], up_to, unsent: &[u64], cut: &[bool]| lost(&s, inboxes, up_to, unsent, cut).total;
        assert_eq!(count(&inboxes, s.total, &[], &[]), 0);
        let mut missing = inboxes.clone();
        missing[3] = Inbox::new(s.total); // client 3 expected messages 1 and 5 (from client 1)
        assert_eq!(count(&missing, s.total, &[], &[]), 2);
        assert_eq!(count(&missing, s.total, &[5], &[]), 1);
        assert_eq!(count(&missing, 2, &[], &[]), 1);
    }

    #[test]
    fn says_which_losses_a_cut_client_explains() {
        let s = schedule();
        let mut inboxes = vec![Inbox::new(s.total); 4];
        // Client 1 (room {1, 3}) got nothing; client 3 only message 1.
        inboxes[3].record(&s, 3, 1);
        for client in [0, 2] {
            for seq in (0..s.total).filter(|&seq| s.expects(client, seq)) {
                inboxes[client].record(&s, client, seq);
            }
        }
        let none = lost(&s, &inboxes, s.total, &[], &[]);
        assert_eq!(none, Lost { total: 3, to_cut: 0, from_cut: 0 });
        // Client 1 cut: its own 2 missing are to a cut client, and message 5,
        // which it sent, is missing at client 3 because of it.
        let one = lost(&s, &inboxes, s.total, &[], &[false, true, false, false]);
        assert_eq!(one, Lost { total: 3, to_cut: 2, from_cut: 1 });
    }
}
