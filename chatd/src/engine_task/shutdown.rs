//! Shutting down: every client is told goodbye after the last records are
//! stored, the writers get their linger to flush, and the task returns once
//! every connection task has ended or the grace time is over.

use std::time::Instant;

use async_channel::Receiver;
use chatcore::Now;
use futures_lite::future;
use smol::Timer;

use super::{CLOSE_LINGER, EngineTask, Inbound, SHUTDOWN_MARGIN, Wake};
use crate::held::ClientOp;

impl EngineTask {
    /// Tells every client goodbye, lets the writers flush, and returns once
    /// every connection task has ended or the grace time is over.
    pub(super) async fn shut_down(mut self, events: Receiver<Inbound>) {
        let now = Now::system();
        tracing::info!(clients = self.engine.client_count(), "shutting down");
        self.engine.handle_shutdown(now);
        self.dispatch(now);
        // The goodbyes wait for the last records (last-seen times); let the
        // store finish them, then send what its commits released.
        if let Some(store) = self.store.take() {
            smol::unblock(move || store.finish()).await;
            while let Ok(done) = self.done_rx.try_recv() {
                self.finished(now, done);
            }
        }
        // Anything still held depends on records the store gave up on: no
        // client may see what a restart would not have. Connections still close.
        let unstored = self.held.release_all();
        let withheld = unstored.iter().filter(|op| matches!(op, ClientOp::Send(..))).count();
        if withheld > 0 {
            tracing::error!(withheld, "not sending output whose records could not be stored");
        }
        for op in unstored {
            if !matches!(op, ClientOp::Send(..)) {
                self.apply(now, op);
            }
        }
        self.dispatch(now);
        for (_, conn) in std::mem::take(&mut self.conns) {
            self.retire(now, conn);
        }
        self.alive = None;
        let give_up = now.instant + CLOSE_LINGER + SHUTDOWN_MARGIN;
        loop {
            let deadline = self.lingering.front().map_or(give_up, |(at, _)| *at);
            let wake = future::or(
                async {
                    let _ = self.alive_rx.recv().await;
                    None
                },
                future::or(
                    async {
                        Timer::at(deadline).await;
                        Some(Wake::Timer)
                    },
                    async { events.recv().await.ok().map(Wake::Event) },
                ),
            )
            .await;
            match wake {
                // Every reader and writer has ended.
                None => break,
                Some(Wake::Timer) if Instant::now() >= give_up => {
                    tracing::warn!("shutdown grace time is over; closing what is left");
                    break;
                }
                Some(Wake::Timer | Wake::Shutdown) => self.cut_lingering(Instant::now()),
                // The engine has forgotten everyone; a connection accepted
                // just now is simply closed.
                Some(Wake::Event(Inbound::Connect(incoming))) => incoming.socket.cut(),
                Some(Wake::Event(_) | Wake::Done(_) | Wake::Scrape(_)) => {}
            }
        }
        tracing::info!("stopped");
    }
}
