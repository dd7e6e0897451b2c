//! Sends this thread's share of the schedule: each message at its due
//! time, whatever the server does (open loop). If writes block, later
//! messages go out late and their latency, measured from the due time,
//! shows it.

use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use smol::Timer;
use smol::channel::Receiver;
use smol::io::AsyncWriteExt;

use super::payload;
use super::shared::Phase;
use super::worker::Worker;

/// What one thread's sender did.
#[derive(Debug, Clone, Default)]
pub struct Sends {
    /// Messages whose write failed.
    pub failed: Vec<u64>,
    /// The first of this thread's messages not attempted (the schedule's
    /// total if it finished).
    pub stopped_at: u64,
}

/// How early a message is sent rather than sleeping for it.
const SLACK_NS: u64 = 20_000;
/// Sends in a row before giving the readers on this thread a turn.
const BURST: u32 = 32;

/// Runs this thread's sends; returns early when `stopped` closes.
pub async fn run(worker: Rc<Worker>, stopped: Receiver<()>) -> Sends {
    let shared = &worker.shared;
    let schedule = &worker.schedule;
    let mut sends = Sends { failed: Vec::new(), stopped_at: schedule.total };
    while shared.phase() == Phase::Setup {
        Timer::after(Duration::from_millis(1)).await;
    }
    let start = shared.start_ns();
    let mut line = Vec::with_capacity(worker.args.size + 64);
    let mut burst = 0;
    for seq in 0..schedule.total {
        let from = schedule.sender(seq);
        if from % worker.threads != worker.thread {
            continue;
        }
        if shared.phase() != Phase::Run {
            sends.stopped_at = seq;
            break;
        }
        let due = start + schedule.due_ns(seq);
        if due > shared.now_ns() + SLACK_NS {
            burst = 0;
            let wake = shared.at(due);
            if smol::future::or(async { Some(Timer::at(wake).await) }, async {
                stopped.recv().await.ok().map(|_| wake)
            })
            .await
            .is_none()
            {
                sends.stopped_at = seq;
                break;
            }
        } else {
            burst += 1;
            if burst >= BURST {
                burst = 0;
                smol::future::yield_now().await;
            }
        }
        line.clear();
        payload::encode(seq, due, worker.args.size, &mut line);
        let stream = worker.streams.borrow()[worker.local(from)].clone();
        let written = match stream {
            // A server that stops reading must not keep loadgen past the end of the run.
            Some(stream) => {
                smol::future::or(async { (&*stream).write_all(&line).await.is_ok() }, async {
                    let _ = stopped.recv().await;
                    false
                })
                .await
            }
            None => false,
        };
        if written {
            shared.sent.fetch_add(1, Relaxed);
            shared.expected.fetch_add(schedule.fanout(seq), Relaxed);
        } else {
            sends.failed.push(seq);
            shared.send_errors.fetch_add(1, Relaxed);
        }
    }
    shared.senders_done.fetch_add(1, Relaxed);
    sends
}
