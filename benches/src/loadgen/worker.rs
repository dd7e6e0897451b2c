//! One worker thread: a single-threaded executor driving its share of the
//! clients (client `i` belongs to thread `i % threads`) and of the
//! schedule's sends.

use std::cell::RefCell;
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use smol::lock::Semaphore;
use smol::{Async, LocalExecutor, Timer};

use super::cli::Args;
use super::ledger::Inbox;
use super::schedule::Schedule;
use super::shared::{Phase, Shared};
use super::{client, sender};

/// Everything the tasks of one worker thread share.
pub struct Worker {
    /// This thread's number.
    pub thread: usize,
    /// Worker threads in the run.
    pub threads: usize,
    /// The options of the run.
    pub args: Args,
    /// Who sends what when.
    pub schedule: Schedule,
    /// Totals and phase shared with every thread.
    pub shared: Arc<Shared>,
    /// Nickname prefix of this run.
    pub nick_prefix: String,
    /// Room name prefix of this run.
    pub room_prefix: String,
    /// Bounds connections being opened at once.
    pub connecting: Semaphore,
    /// Each local client's socket once connected, by local index.
    pub streams: RefCell<Vec<Option<Rc<Async<TcpStream>>>>>,
    /// Each local client's received messages, by local index.
    pub inboxes: RefCell<Vec<Inbox>>,
    /// Read buffer shared by this thread's clients (never held across an await).
    pub scratch: RefCell<Vec<u8>>,
    /// Delivery latency, ns from intended send time, timed messages only.
    pub latency: RefCell<Histogram<u64>>,
    /// Time to open each connection, ns.
    pub connect_time: RefCell<Histogram<u64>>,
}

/// What a worker thread hands back when the run is over.
pub struct Outcome {
    /// `(client index, inbox)` for this thread's clients.
    pub inboxes: Vec<(usize, Inbox)>,
    /// Delivery latency histogram (ns).
    pub latency: Histogram<u64>,
    /// Connect time histogram (ns).
    pub connect_time: Histogram<u64>,
    /// What this thread's sender did.
    pub sends: sender::Sends,
}

impl Worker {
    /// Client indices of this thread, in local-index order.
    pub fn clients(&self) -> impl Iterator<Item = usize> + use<> {
        (self.thread..self.schedule.clients).step_by(self.threads)
    }

    /// Local index of client `i` (which must belong to this thread).
    pub fn local(&self, client: usize) -> usize {
        client / self.threads
    }
}

/// A histogram for nanosecond times up to two minutes, 3 significant digits.
pub fn ns_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("valid histogram bounds")
}

/// Runs worker `thread` of `threads` until the run is done or aborted.
pub fn run(thread: usize, threads: usize, args: Args, schedule: Schedule, shared: Arc<Shared>) -> Outcome {
    let local_clients = (thread..schedule.clients).step_by(threads).count();
    let worker = Rc::new(Worker {
        thread,
        threads,
        nick_prefix: args.nick_prefix(),
        room_prefix: args.room_prefix(),
        connecting: Semaphore::new(args.connect_concurrency),
        streams: RefCell::new(vec![None; local_clients]),
        inboxes: RefCell::new(vec![Inbox::new(schedule.total); local_clients]),
        scratch: RefCell::new(vec![0; 256 * 1024]),
        latency: RefCell::new(ns_histogram()),
        connect_time: RefCell::new(ns_histogram()),
        args,
        schedule,
        shared,
    });
    let executor = LocalExecutor::new();
    let sends = smol::block_on(executor.run(async {
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let clients: Vec<_> = worker
            .clients()
            .map(|i| {
                let (worker, stopped) = (worker.clone(), stopped.clone());
                executor.spawn(smol::future::or(client::run(worker, i), async move {
                    let _ = stopped.recv().await;
                }))
            })
            .collect();
        let sending = executor.spawn(sender::run(worker.clone(), stopped));
        while worker.shared.phase() < Phase::Done {
            Timer::after(Duration::from_millis(5)).await;
        }
        drop(stop);
        for task in clients {
            task.await;
        }
        sending.await
    }));
    let worker = Rc::into_inner(worker).unwrap_or_else(|| unreachable!("every task has finished"));
    let first = worker.thread;
    Outcome {
        inboxes: worker
            .inboxes
            .into_inner()
            .into_iter()
            .enumerate()
            .map(|(k, inbox)| (first + k * threads, inbox))
            .collect(),
        latency: worker.latency.into_inner(),
        connect_time: worker.connect_time.into_inner(),
        sends,
    }
}
