//! The executor every task runs on: one smol `Executor` driven by a few
//! threads, so the engine task and the socket tasks can use more than one
//! core without any of them sharing state.

use std::future::Future;

use smol::{Executor, Task};

static EXECUTOR: Executor<'static> = Executor::new();

/// Starts a task on chatd's executor.
pub(crate) fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> Task<T> {
    EXECUTOR.spawn(future)
}

/// Runs `main` to completion on the calling thread, with `threads - 1` more
/// threads helping with the other tasks until it returns.
pub(crate) fn block_on<T>(threads: usize, main: impl Future<Output = T>) -> T {
    let (stop, stopped) = async_channel::bounded::<()>(1);
    std::thread::scope(|scope| {
        for i in 1..threads {
            let stopped = stopped.clone();
            let worker = std::thread::Builder::new().name(format!("chatd-worker-{i}"));
            // Without its helpers the server still runs, on fewer cores.
            let spawned = worker.spawn_scoped(scope, move || {
                smol::block_on(EXECUTOR.run(async {
                    let _ = stopped.recv().await;
                }))
            });
            if let Err(error) = spawned {
                tracing::warn!(%error, "could not start a worker thread");
            }
        }
        let result = smol::block_on(EXECUTOR.run(main));
        drop(stop);
        result
    })
}
