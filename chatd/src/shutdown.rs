//! SIGINT and SIGTERM: the first asks for a graceful shutdown, a second one
//! means the operator will not wait and the process exits at once.

use async_channel::Receiver;
use async_signal::{Signal, Signals};
use futures_lite::StreamExt;

use crate::runtime::spawn;

/// Exit status when a second signal cuts the graceful shutdown short
/// (128 + SIGINT, as shells report an interrupted program).
const FORCED_EXIT: i32 = 130;

/// Starts listening for the shutdown signals. The receiver gets one message
/// on the first signal. Register before announcing the listening address,
/// so that a signal sent right after it is never fatal.
pub(crate) fn listen() -> std::io::Result<Receiver<()>> {
    let mut signals = Signals::new([Signal::Term, Signal::Int])?;
    let (tx, rx) = async_channel::bounded(1);
    spawn(async move {
        if let Some(Ok(signal)) = signals.next().await {
            tracing::info!(?signal, "signal received; shutting down gracefully");
            let _ = tx.try_send(());
        }
        if let Some(Ok(signal)) = signals.next().await {
            tracing::warn!(?signal, "second signal; exiting now");
            std::process::exit(FORCED_EXIT);
        }
    })
    .detach();
    Ok(rx)
}
