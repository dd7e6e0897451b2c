//! The storage thread of a cluster node, against a store that records
//! what it is asked: publications reach `commit_cluster` with their
//! batches' records, merged by group commit in the order sent, and come
//! back numbered.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::{HistoryTarget, Publication, PublishTicket, Record};

use super::backend::{Backend, BackendError, Page};
use super::thread::{Job, Reply, StoreHandle};
use super::{Retention, Store};

/// One `commit_cluster` call: node, records, tickets.
type Call = (String, Vec<Record>, Vec<u64>);

/// Numbers every publication in turn; the first commit says it started
/// and waits until the test lets it go, and the one after it fails once.
struct Recording {
    calls: Arc<Mutex<Vec<Call>>>,
    first_started: Sender<()>,
    release_first: Receiver<()>,
    next: u64,
    failed_once: bool,
}

impl Backend for Recording {
    fn commit(&mut self, _: &[Record]) -> Result<(), BackendError> {
        panic!("a cluster node's thread commits with commit_cluster only");
    }

    fn load(&mut self, _: usize) -> Result<Vec<Record>, BackendError> {
        Ok(Vec::new())
    }

    fn history(&mut self, _: &HistoryTarget, _: u64, _: usize) -> Result<Page, BackendError> {
        Ok(Page::default())
    }

    fn history_after(&mut self, _: &HistoryTarget, _: u64, _: usize) -> Result<Page, BackendError> {
        Ok(Page::default())
    }

    fn prune(&mut self, _: Retention, _: u64) -> Result<u64, BackendError> {
        Ok(0)
    }

    fn keep_whispers(&mut self, _: Option<u64>) {}

    fn commit_cluster(
        &mut self,
        node: &str,
        records: &[Record],
        publications: &[Publication],
    ) -> Result<Vec<Option<u64>>, BackendError> {
        let mut calls = self.calls.lock().unwrap();
        if calls.is_empty() {
            self.first_started.send(()).unwrap();
            self.release_first.recv().unwrap();
        } else if !self.failed_once {
            self.failed_once = true;
            return Err(BackendError::Unsettled);
        }
        let tickets = publications.iter().map(|publication| publication.ticket.as_u64()).collect();
        calls.push((node.to_owned(), records.to_vec(), tickets));
        Ok(publications
            .iter()
            .map(|publication| {
                // A room named "gone" is gone.
                (&*publication.room != "gone").then(|| {
                    self.next += 1;
                    self.next
                })
            })
            .collect())
    }

    fn prune_changes(&mut self, _: u64) -> Result<u64, BackendError> {
        Ok(0)
    }
}

fn publication(ticket: u64, room: &str) -> Publication {
    Publication {
        ticket: PublishTicket::from_u64(ticket),
        room: room.into(),
        from: "alice".into(),
        host: "h".into(),
        text: "hi".into(),
        unix_ms: 1,
        notice: false,
        kind: chatcore::MessageKind::Said,
    }
}

fn seen(room: &str) -> Record {
    Record::RoomVacated { room: room.into(), unix_ms: 1 }
}

/// The next reply that is not a status change.
fn committed(inbox: &Receiver<Reply>) -> (u64, Vec<(u64, Option<u64>)>) {
    loop {
        match inbox.recv_timeout(Duration::from_secs(10)).expect("the thread answers") {
            Reply::Committed { upto, published } => {
                let published = published.into_iter().map(|(p, seq)| (p.ticket.as_u64(), seq)).collect();
                return (upto, published);
            }
            Reply::Status(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn a_cluster_nodes_batches_are_merged_numbered_and_answered_in_order() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (release, release_first) = mpsc::channel();
    let (first_started, started) = mpsc::channel();
    let store = Recording { calls: calls.clone(), first_started, release_first, next: 0, failed_once: false };
    let (replies, inbox) = mpsc::channel();
    let handle = StoreHandle::spawn_cluster(Box::new(store), Retention::default(), "node-a".into(), move |reply| {
        let _ = replies.send(reply);
    });
    handle.send(Job::Commit { batch: 1, records: vec![seen("r")], publications: vec![publication(1, "r")] });
    // While the first commit waits, two more batches queue: one commit.
    started.recv().unwrap();
    let second = vec![publication(2, "r"), publication(3, "gone")];
    handle.send(Job::Commit { batch: 2, records: vec![seen("s")], publications: second });
    handle.send(Job::Commit { batch: 3, records: vec![seen("t")], publications: vec![publication(4, "r")] });
    release.send(()).unwrap();
    assert_eq!(committed(&inbox), (1, vec![(1, Some(1))]));
    // The merged commit failed once and was retried with the same arguments.
    assert_eq!(committed(&inbox), (3, vec![(2, Some(2)), (3, None), (4, Some(3))]));
    handle.finish();
    let calls = calls.lock().unwrap();
    assert_eq!(
        *calls,
        [
            ("node-a".to_owned(), vec![seen("r")], vec![1]),
            ("node-a".to_owned(), vec![seen("s"), seen("t")], vec![2, 3, 4]),
        ]
    );
}

#[test]
fn a_single_node_commits_as_before_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), super::SyncMode::Normal).unwrap();
    let (replies, inbox) = mpsc::channel();
    let handle = StoreHandle::spawn(Box::new(store), Retention::default(), move |reply| {
        let _ = replies.send(reply);
    });
    handle.send(Job::Commit {
        batch: 7,
        records: vec![Record::RoomCreated { room: "r".into(), unix_ms: 1, owner: None }],
        publications: Vec::new(),
    });
    assert_eq!(committed(&inbox), (7, vec![]));
    handle.finish();
}

#[test]
fn sqlite_does_not_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), super::SyncMode::Normal).unwrap();
    let error = store.commit_cluster("a", &[], &[publication(1, "r")]).unwrap_err();
    assert!(matches!(error, BackendError::NotClustered), "{error}");
    assert!(matches!(store.feed_head(), Err(BackendError::NotClustered)));
    assert!(matches!(store.room_heads(&["r"]), Err(BackendError::NotClustered)));
}
