//! Shutting down: every client is told goodbye after the last records are
//! stored; so is every connection the closing listeners still hand over;
//! the writers get their linger to flush, and the task returns once every
//! connection task has ended or the grace time is over.

use std::time::Instant;

use async_channel::Receiver;
use chatcore::Now;
use futures_lite::future;
use smol::Timer;

use super::{CLOSE_LINGER, EngineTask, Inbound, SHUTDOWN_MARGIN};
use crate::conn::Incoming;
use crate::held::ClientOp;
use crate::server::drain::DRAIN;

/// What ends a wait of the shutdown loop.
enum Stage {
    /// Every connection task has ended.
    AllEnded,
    /// Every chat port's listener has closed.
    ListenersClosed,
    Timer,
    Event(Inbound),
}

impl EngineTask {
    /// Tells every client goodbye, and every connection the listeners hand
    /// over until they have closed; lets the writers flush, and returns
    /// once every connection task has ended or the grace time is over.
    pub(super) async fn shut_down(mut self, events: Receiver<Inbound>, listening: Receiver<()>) {
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
        self.retire_all(now);
        // Last: the goodbyes' presence changes and releases are sent
        // first, then the node leaves (its names free at once, not after
        // the lease).
        if let Some(node) = self.cluster.take() {
            smol::unblock(move || node.finish()).await;
        }
        // A listener that has not closed by then is stuck handing over a
        // connection; the goodbyes already said must not wait for it.
        let listeners_due = now.instant + DRAIN + SHUTDOWN_MARGIN;
        let mut listening = Some(listening);
        let mut give_up = None;
        loop {
            let limit = give_up.unwrap_or(listeners_due);
            let deadline = self.lingering.front().map_or(limit, |(at, _)| limit.min(*at));
            let stage = future::or(
                async {
                    // Nothing is sent on it: it closes once `alive` is
                    // dropped and every connection task has ended.
                    let _ = self.alive_rx.recv().await;
                    Stage::AllEnded
                },
                future::or(
                    async {
                        match &listening {
                            Some(listening) => while listening.recv().await.is_ok() {},
                            None => future::pending().await,
                        }
                        Stage::ListenersClosed
                    },
                    future::or(
                        async {
                            Timer::at(deadline).await;
                            Stage::Timer
                        },
                        async {
                            match events.recv().await {
                                Ok(event) => Stage::Event(event),
                                // The task holds a sender itself, so this never closes.
                                Err(_) => future::pending().await,
                            }
                        },
                    ),
                ),
            )
            .await;
            match stage {
                Stage::AllEnded => break,
                Stage::Timer if Instant::now() >= limit => {
                    if give_up.is_some() {
                        tracing::warn!("shutdown grace time is over; closing what is left");
                        break;
                    }
                    tracing::warn!("a listener did not close in time; no longer waiting for it");
                    listening = None;
                }
                Stage::Timer => self.cut_lingering(Instant::now()),
                Stage::ListenersClosed => listening = None,
                Stage::Event(Inbound::Connect(incoming)) => self.turn_away(incoming),
                // The engine has forgotten everyone it said goodbye to.
                Stage::Event(_) => {}
            }
            if listening.is_none() && give_up.is_none() {
                // No connection comes any more but a late one (a WebSocket
                // whose request was still being read): from here on the
                // wait is for the tasks to end.
                self.alive = None;
                give_up = Some(Instant::now() + CLOSE_LINGER + SHUTDOWN_MARGIN);
            }
        }
        tracing::info!("stopped");
    }

    /// A connection accepted while shutting down (a listener emptying its
    /// queue) is welcomed and told goodbye at once, as every client was:
    /// the same words in its protocol, which ask it to reconnect.
    fn turn_away(&mut self, incoming: Incoming) {
        let now = Now::system();
        match self.alive.clone() {
            Some(alive) => self.connect(now, incoming, alive),
            // Past the wait for the listeners: its task is not waited for,
            // but it still gets its goodbye and its linger if time allows.
            None => self.connect(now, incoming, async_channel::bounded(1).0),
        }
        self.engine.handle_shutdown(now);
        self.dispatch(now);
        self.flush();
        self.retire_all(now);
    }

    /// Lets every connection still known flush and close.
    fn retire_all(&mut self, now: Now) {
        for (_, conn) in std::mem::take(&mut self.conns) {
            self.retire(now, conn);
        }
    }
}
