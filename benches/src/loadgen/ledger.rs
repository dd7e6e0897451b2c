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
        for (mate, _) in owed(schedule, client, sent_up_to, unsent).filter(|&(_, seq)| !inbox.has(seq)) {
            lost.total += 1;
            if was_cut(client) {
                lost.to_cut += 1;
            } else if was_cut(mate) {
                lost.from_cut += 1;
            }
        }
    }
    lost
}

/// `(expected, received)`: the deliveries `client` should have had (as
/// for [`lost`]) and how many of them arrived.
pub fn received(schedule: &Schedule, inbox: &Inbox, client: usize, sent_up_to: u64, unsent: &[u64]) -> (u64, u64) {
    owed(schedule, client, sent_up_to, unsent)
        .fold((0, 0), |(expected, received), (_, seq)| (expected + 1, received + u64::from(inbox.has(seq))))
}

/// `(sender, seq)` for every message `client` should receive: those of its
/// roommates that send, up to `sent_up_to`, but not `unsent`. Work in
/// proportion to the deliveries expected, not to clients × messages.
fn owed<'a>(
    schedule: &'a Schedule,
    client: usize,
    sent_up_to: u64,
    unsent: &'a [u64],
) -> impl Iterator<Item = (usize, u64)> + 'a {
    let mates = (schedule.room_of(client)..schedule.senders).step_by(schedule.rooms).filter(move |&m| m != client);
    mates
        .flat_map(move |mate| (mate as u64..sent_up_to).step_by(schedule.senders).map(move |seq| (mate, seq)))
        .filter(|(_, seq)| unsent.binary_search(seq).is_err())
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
    fn in_a_burst_only_the_senders_lines_are_expected() {
        // 4 clients in one room; clients 0 and 1 send 3 lines each.
        let s = Schedule::burst(4, 1, 2, 3, 1, Duration::from_secs(1));
        let empty = vec![Inbox::new(s.total); 4];
        // Clients 0 and 1 each miss the other's 3; readers 2 and 3 miss all 6.
        assert_eq!(lost(&s, &empty, s.total, &[], &[]).total, 3 + 3 + 6 + 6);
        let mut full = empty.clone();
        for (client, inbox) in full.iter_mut().enumerate() {
            for seq in (0..s.total).filter(|&seq| s.expects(client, seq)) {
                assert_eq!(inbox.record(&s, client, seq), Receipt::Expected);
            }
        }
        assert_eq!(lost(&s, &full, s.total, &[], &[]).total, 0);
        // Reader 3 is owed all 6 lines, sender 0 the other sender's 3.
        assert_eq!(received(&s, &full[3], 3, s.total, &[]), (6, 6));
        assert_eq!(received(&s, &empty[3], 3, s.total, &[1]), (5, 0));
        assert_eq!(received(&s, &full[0], 0, s.total, &[]), (3, 3));
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
