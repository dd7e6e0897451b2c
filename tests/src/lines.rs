//! Reading what chatd answers within a time, what it refuses while its
//! storage fails, and what history lines hold.

use std::time::{Duration, Instant};

use crate::{Client, READ_TIMEOUT};

/// The text of each `~ [ROOM HH:MM:SS] NICK: TEXT` history line.
///
/// # Panics
///
/// When a line is not a history line.
#[must_use]
pub fn history_texts(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            assert!(line.starts_with("~ ["), "not a history line: {line:?}");
            let (_, from_and_text) = line.split_once("] ").expect("a history line has a time");
            from_and_text.split_once(": ").expect("a history line has a sender").1.to_owned()
        })
        .collect()
}

impl Client {
    /// The next line if one comes within `patience`; `None` if none does.
    ///
    /// # Panics
    ///
    /// When chatd closed the connection.
    pub fn line_within(&mut self, patience: Duration) -> Option<String> {
        self.raw.set_read_timeout(Some(patience)).expect("set a read timeout");
        let line = self.try_line();
        self.raw.set_read_timeout(Some(READ_TIMEOUT)).expect("set the read timeout");
        match line {
            Ok(Some(line)) => Some(line),
            Ok(None) => panic!("chatd closed the connection"),
            Err(_) => None,
        }
    }

    /// Sends `text` (a room message, say) and returns whether chatd
    /// refused it for want of storage (the only answer a sender gets):
    /// waits up to `patience` for the refusal.
    ///
    /// # Panics
    ///
    /// When another line comes.
    pub fn refused_for_storage_within(&mut self, text: &str, patience: Duration) -> bool {
        self.send(text);
        let answer = self.line_within(patience);
        if let Some(line) = &answer {
            assert_eq!(line, "! the server cannot save right now; that was not sent or saved, try again shortly");
        }
        answer.is_some()
    }

    /// While storage fails, sends numbered messages (`during 0{suffix}`,
    /// `during 1{suffix}`, …) until three in a row are refused for want of
    /// storage, each refusal awaited for `patience`; returns the texts
    /// accepted before the first refusal (chatd holds them until they are
    /// stored). Messages accepted after a refusal fail the test, as does
    /// going on past `give_up` (`why` says what storage is doing).
    ///
    /// # Panics
    ///
    /// As said, and when another line comes.
    pub fn send_until_refused_for_storage(
        &mut self,
        suffix: &str,
        patience: Duration,
        give_up: Duration,
        why: &dyn Fn() -> String,
    ) -> Vec<String> {
        let mut accepted = Vec::new();
        let mut refusals = 0;
        let give_up = Instant::now() + give_up;
        for i in 0.. {
            assert!(Instant::now() < give_up, "{i} messages and fewer than 3 refused: {}", why());
            let text = format!("during {i}{suffix}");
            if self.refused_for_storage_within(&text, patience) {
                refusals += 1;
                if refusals == 3 {
                    break;
                }
            } else {
                assert_eq!(refusals, 0, "a message was accepted between refusals");
                accepted.push(text);
            }
        }
        accepted
    }

    /// Sends `/users` and waits for its answer: every line sent before
    /// has been handled.
    pub fn sync(&mut self) {
        self.send("/users");
        self.expect_prefix("* online (");
    }
}
