//! SIGINT and SIGTERM: the first asks for a graceful shutdown, a second one
//! means the operator will not wait and the process exits at once.

use async_channel::{Receiver, Sender};
use async_signal::{Signal, Signals};
use futures_lite::{StreamExt, future};

use crate::runtime::spawn;

/// Exit status when a second signal cuts the graceful shutdown short
/// (128 + SIGINT, as shells report an interrupted program).
const FORCED_EXIT: i32 = 130;

/// Heard by everyone who must act on a graceful shutdown: the engine task
/// and every accept loop. Nothing is ever sent; the first signal closes
/// the channel, and a closed channel wakes every clone at once.
#[derive(Debug, Clone)]
pub(crate) struct Stop(Receiver<()>);

impl Stop {
    /// Returns once a graceful shutdown has been asked for.
    pub(crate) async fn requested(&self) {
        while self.0.recv().await.is_ok() {}
    }
}

/// Starts listening for the shutdown signals. Register before announcing
/// the listening address, so that a signal sent right after it is never
/// fatal.
pub(crate) fn listen() -> std::io::Result<Stop> {
    let mut signals = Signals::new([Signal::Term, Signal::Int])?;
    let (tx, rx) = async_channel::bounded::<()>(1);
    spawn(async move {
        if let Some(Ok(signal)) = signals.next().await {
            tracing::info!(?signal, "signal received; shutting down gracefully");
            drop::<Sender<()>>(tx);
        } else {
            // No signal can come any more: never stop.
            future::pending::<()>().await;
        }
        if let Some(Ok(signal)) = signals.next().await {
            tracing::warn!(?signal, "second signal; exiting now");
            std::process::exit(FORCED_EXIT);
        }
    })
    .detach();
    Ok(Stop(rx))
}
