//! Prometheus metrics, served at `GET /metrics` on the metrics port (`--metrics-listen`).
//!
//! The engine task owns everything it measures ([`Measures`]): plain
//! numbers and histograms it updates without locks or atomics. A scrape
//! asks it for a copy ([`Snapshot`]) through a channel, as one more thing
//! it handles between batches, and formats that copy on the HTTP
//! connection's task; formatting never holds anything the engine task
//! waits for. Only two things are counted elsewhere: the bytes written to
//! sockets (every connection's task writes), in one atomic ([`wrote`]),
//! and the password checks, by the password threads that run them
//! (`passwords::Checks`), read at the scrape.
//!
//! The text is OpenMetrics (Prometheus' text format with `# EOF`), made
//! with the `prometheus-client` crate; the series and their meaning are
//! listed in `docs/OPERATIONS.md`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chatcore::{Engine, Stats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use crate::cluster::BusCounts;
use crate::passwords::ChecksRun;

/// The `Content-Type` of [`render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Bytes written to clients' sockets since chatd started.
static WRITTEN_BYTES: AtomicU64 = AtomicU64::new(0);

/// Counts `bytes` the kernel took for a client. Called once per write
/// call (not per line), from whichever task wrote.
pub(crate) fn wrote(bytes: usize) {
    WRITTEN_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

/// A request for a [`Snapshot`]: where to send it.
pub(crate) type Scrape = async_channel::Sender<Snapshot>;

/// Upper bounds of the batch-size histograms (events per batch, records
/// per commit): powers of two up to the engine task's batch limit and
/// somewhat past it, since a commit may gather several batches.
const COUNT_BUCKETS: [f64; 12] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0];

/// Upper bounds, in seconds, of the engine's time per batch: from a few
/// microseconds (a line to one client) to the tens of milliseconds that
/// would mean every client waits noticeably.
const BATCH_SECONDS: [f64; 12] =
    [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1];

/// Upper bounds, in seconds, of a commit's latency: an fsync takes a
/// millisecond or more on real disks; seconds mean the disk is in trouble.
const COMMIT_SECONDS: [f64; 13] =
    [0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// A histogram the engine task fills without any lock: counts per bucket,
/// not cumulative (the encoder sums them), the last bucket unbounded.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    /// `(upper bound, observations in this bucket only)`.
    buckets: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &[f64]) -> Self {
        // The encoder writes `f64::MAX` as `+Inf`.
        let buckets = bounds.iter().copied().chain([f64::MAX]).map(|bound| (bound, 0)).collect();
        Self { buckets, sum: 0.0, count: 0 }
    }

    fn observe(&mut self, value: f64) {
        self.sum += value;
        self.count += 1;
        if let Some((_, count)) = self.buckets.iter_mut().find(|(bound, _)| value <= *bound) {
            *count += 1;
        }
    }
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// What the engine task measures itself, beyond the engine's [`Stats`].
#[derive(Debug, Clone)]
pub(crate) struct Measures {
    /// WebSocket clients the engine knows; the engine counts them among
    /// its JSON clients.
    websocket_clients: usize,
    /// Clients the engine took in since start: the connections the log
    /// mentions only at `debug`.
    connections_opened: u64,
    send_queue_cuts: u64,
    batch_events: Histogram,
    batch_seconds: Histogram,
    commit_records: Histogram,
    commit_seconds: Histogram,
}

impl Default for Measures {
    fn default() -> Self {
        Self {
            websocket_clients: 0,
            connections_opened: 0,
            send_queue_cuts: 0,
            batch_events: Histogram::new(&COUNT_BUCKETS),
            batch_seconds: Histogram::new(&BATCH_SECONDS),
            commit_records: Histogram::new(&COUNT_BUCKETS),
            commit_seconds: Histogram::new(&COMMIT_SECONDS),
        }
    }
}

impl Measures {
    /// A client joined the engine.
    pub(crate) fn connection_opened(&mut self) {
        self.connections_opened += 1;
    }

    /// A WebSocket client joined the engine.
    pub(crate) fn websocket_connected(&mut self) {
        self.websocket_clients += 1;
    }

    /// A WebSocket client the engine knew is gone.
    pub(crate) fn websocket_gone(&mut self) {
        self.websocket_clients = self.websocket_clients.saturating_sub(1);
    }

    /// A client was cut for leaving too much unread.
    pub(crate) fn send_queue_cut(&mut self) {
        self.send_queue_cuts += 1;
    }

    /// One batch of `events` inbound events was handled.
    pub(crate) fn batch_events(&mut self, events: usize) {
        self.batch_events.observe(events as f64);
    }

    /// One turn of the engine task took `took`, from waking to flushing.
    pub(crate) fn batch_took(&mut self, took: Duration) {
        self.batch_seconds.observe(took.as_secs_f64());
    }

    /// A batch of `records` went to the storage thread.
    pub(crate) fn commit_sent(&mut self, records: usize) {
        self.commit_records.observe(records as f64);
    }

    /// A batch became durable `took` after it was sent.
    pub(crate) fn committed(&mut self, took: Duration) {
        self.commit_seconds.observe(took.as_secs_f64());
    }

    /// A copy of everything, with the engine's figures, the storage state
    /// and the password checks run as they are now.
    pub(crate) fn snapshot(
        &self,
        engine: &Engine,
        held_bytes: usize,
        storage_failing: bool,
        password_checks: ChecksRun,
    ) -> Snapshot {
        Snapshot {
            engine: engine.stats(),
            measures: self.clone(),
            held_bytes,
            storage_failing,
            password_checks,
            cluster: None,
        }
    }
}

/// The engine task's figures at one moment, for one scrape.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    engine: Stats,
    measures: Measures,
    /// Bytes of output held until a commit makes their records durable.
    held_bytes: usize,
    storage_failing: bool,
    password_checks: ChecksRun,
    /// A cluster node's: what its bus counted, whether Redis answers among it.
    cluster: Option<BusCounts>,
}

impl Snapshot {
    /// With a cluster node's figures.
    pub(crate) fn with_cluster(mut self, counts: BusCounts) -> Self {
        self.cluster = Some(counts);
        self
    }
}

/// The metrics text for one scrape.
pub(crate) fn render(snapshot: Snapshot, uptime: Duration) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    let written_bytes = WRITTEN_BYTES.load(Ordering::Relaxed);
    registry.register_collector(Box::new(Scraped { snapshot, uptime, written_bytes }));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

/// One scrape's figures, written out as series.
#[derive(Debug)]
struct Scraped {
    snapshot: Snapshot,
    uptime: Duration,
    written_bytes: u64,
}

impl Collector for Scraped {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Snapshot { engine: stats, measures, held_bytes, storage_failing, password_checks, cluster } =
            &self.snapshot;
        let gauge = |v: usize| ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX));

        let info = encoder.encode_descriptor("chatd_build", "chatd's version.", None, MetricType::Info)?;
        info_encode(info)?;
        let uptime = ConstGauge::new(self.uptime.as_secs_f64());
        uptime.encode(encoder.encode_descriptor(
            "chatd_uptime",
            "Time since chatd started.",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?)?;

        // A WebSocket client is a JSON client to the engine; the rest of
        // the JSON clients came in on the text port. The two counts are
        // taken at the same moment, so only a departure the engine saw
        // before chatd forgot the socket can make the difference dip.
        let json_tcp = stats.json_clients.saturating_sub(measures.websocket_clients);
        let mut connections = encoder.encode_descriptor(
            "chatd_connections",
            "Clients connected now, by transport (text and json share the text port).",
            None,
            MetricType::Gauge,
        )?;
        for (transport, count) in [
            ("text", stats.text_clients),
            ("json", json_tcp),
            ("irc", stats.irc_clients),
            ("websocket", measures.websocket_clients),
        ] {
            gauge(count).encode(connections.encode_family(&[("transport", transport)].as_slice())?)?;
        }

        let gauges = [
            ("chatd_clients", "Clients connected now, all transports together.", stats.clients),
            ("chatd_rooms", "Rooms that exist now.", stats.rooms),
            ("chatd_accounts", "Registered accounts.", stats.accounts),
        ];
        for (name, help, value) in gauges {
            gauge(value).encode(encoder.encode_descriptor(name, help, None, MetricType::Gauge)?)?;
        }

        let counters = [
            ("chatd_connections_opened", "Clients connected since chatd started.", measures.connections_opened),
            ("chatd_lines_received", "Lines received from clients.", stats.lines_in),
            ("chatd_messages", "Room messages and whispers accepted.", stats.messages),
            ("chatd_deliveries", "Lines addressed to clients, a broadcast once per recipient.", stats.deliveries),
            ("chatd_written_bytes", "Bytes written to clients' sockets.", self.written_bytes),
            ("chatd_send_queue_cuts", "Clients cut for leaving too much output unread.", measures.send_queue_cuts),
            ("chatd_flood_refusals", "Lines refused by flood control.", stats.flood_refusals),
            ("chatd_login_failures", "Failed password checks.", stats.login_failures),
            ("chatd_lockouts", "Logins refused as locked out.", stats.lockouts),
            ("chatd_registration_refusals", "Registrations refused by a limit.", stats.registration_refusals),
        ];
        for (name, help, value) in counters {
            ConstCounter::new(value).encode(encoder.encode_descriptor(name, help, None, MetricType::Counter)?)?;
        }
        // A login for a name without an account is checked against a
        // stand-in with chatd's parameters, so it counts as `chatd` too.
        let mut checks = encoder.encode_descriptor(
            "chatd_password_checks",
            "Password checks run, one argon2 computation each, by whose parameters they used.",
            None,
            MetricType::Counter,
        )?;
        for (params, count) in
            [("chatd", password_checks.with_chatd_params), ("other", password_checks.with_other_params)]
        {
            ConstCounter::new(count).encode(checks.encode_family(&[("params", params)].as_slice())?)?;
        }

        if let Some(bus) = cluster {
            encode_cluster(&mut encoder, stats, bus)?;
        }

        gauge(*held_bytes).encode(encoder.encode_descriptor(
            "chatd_store_held",
            "Output held until the storage thread makes its records durable.",
            Some(&Unit::Bytes),
            MetricType::Gauge,
        )?)?;
        ConstGauge::new(i64::from(*storage_failing)).encode(encoder.encode_descriptor(
            "chatd_store_failing",
            "1 while storage fails or a commit is overdue (new messages are refused), else 0.",
            None,
            MetricType::Gauge,
        )?)?;
        let histograms = [
            (
                "chatd_store_commit_duration",
                "Time from a batch's records reaching the storage thread to their being durable.",
                Some(&Unit::Seconds),
                &measures.commit_seconds,
            ),
            (
                "chatd_store_commit_records",
                "Records per batch sent to the storage thread.",
                None,
                &measures.commit_records,
            ),
            ("chatd_engine_batch_events", "Inbound events handled per batch.", None, &measures.batch_events),
            (
                "chatd_engine_batch_duration",
                "Time the engine task spends per turn, from waking to writing.",
                Some(&Unit::Seconds),
                &measures.batch_seconds,
            ),
        ];
        for (name, help, unit, histogram) in histograms {
            histogram.encode(encoder.encode_descriptor(name, help, unit, MetricType::Histogram)?)?;
        }
        Ok(())
    }
}

/// `chatd_build_info{version="..."} 1`.
fn info_encode(mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
    encoder.encode_info(&[("version", env!("CARGO_PKG_VERSION"))].as_slice())
}

/// A cluster node's series: its link to Redis, what went through it, and
/// what the engine made of the other nodes' messages and presence.
fn encode_cluster(encoder: &mut DescriptorEncoder<'_>, stats: &Stats, bus: &BusCounts) -> Result<(), std::fmt::Error> {
    ConstGauge::new(i64::from(bus.connected)).encode(encoder.encode_descriptor(
        "chatd_cluster_redis_up",
        "1 while this node reaches Redis, else 0 (it takes no new names, and /healthz answers 503).",
        None,
        MetricType::Gauge,
    )?)?;
    ConstGauge::new(i64::try_from(stats.remote_users).unwrap_or(i64::MAX)).encode(encoder.encode_descriptor(
        "chatd_cluster_remote_users",
        "Users of other nodes in rooms this node knows.",
        None,
        MetricType::Gauge,
    )?)?;
    let counters = [
        ("chatd_cluster_published", "Room messages this node added to their Redis streams.", bus.published),
        (
            "chatd_cluster_publish_refused",
            "Room messages a later one of their room beat to its stream: added after it, late.",
            bus.refused,
        ),
        (
            "chatd_cluster_bus_dropped",
            "Messages and presence changes given up while Redis was out of reach.",
            bus.dropped,
        ),
        ("chatd_cluster_entries_read", "Room messages read from Redis streams.", bus.entries_read),
        ("chatd_cluster_trimmed", "Times a room's stream no longer held what this node needed.", bus.trimmed),
        ("chatd_cluster_duplicates", "Room messages that arrived again and were dropped.", stats.cluster_duplicates),
        ("chatd_cluster_ignored", "Room messages for rooms without local members.", stats.cluster_ignored),
        ("chatd_cluster_backfills", "Backfills asked of the database for a gap.", stats.cluster_backfills),
        (
            "chatd_cluster_held_dropped",
            "Held room messages dropped past the per-room bound.",
            stats.cluster_held_dropped,
        ),
        (
            "chatd_cluster_remote_presence_ignored",
            "Presence changes of other nodes that did not apply here.",
            stats.remote_presence_ignored,
        ),
        (
            "chatd_cluster_remote_whispers_dropped",
            "Whispers from other nodes whose recipient was gone or blocked the sender.",
            stats.remote_whispers_dropped,
        ),
    ];
    for (name, help, value) in counters {
        ConstCounter::new(value).encode(encoder.encode_descriptor(name, help, None, MetricType::Counter)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_each_value_in_its_first_bucket() {
        let mut histogram = Histogram::new(&[1.0, 10.0]);
        for value in [0.5, 1.0, 5.0, 100.0] {
            histogram.observe(value);
        }
        assert_eq!(histogram.buckets, [(1.0, 2), (10.0, 1), (f64::MAX, 1)]);
        assert_eq!((histogram.sum, histogram.count), (106.5, 4));
    }

    #[test]
    fn render_writes_every_series() {
        let engine = Engine::new(chatcore::Config::default()).unwrap();
        let mut measures = Measures::default();
        measures.websocket_connected();
        measures.connection_opened();
        measures.batch_events(3);
        let checks = ChecksRun { with_chatd_params: 5, with_other_params: 1 };
        let text = render(measures.snapshot(&engine, 7, true, checks), Duration::from_secs(2)).unwrap();
        for line in [
            "chatd_build_info{version=\"",
            "chatd_uptime_seconds 2",
            "chatd_connections{transport=\"websocket\"} 1",
            "chatd_connections{transport=\"json\"} 0",
            "chatd_clients 0",
            "chatd_connections_opened_total 1",
            "chatd_messages_total 0",
            "chatd_password_checks_total{params=\"chatd\"} 5",
            "chatd_password_checks_total{params=\"other\"} 1",
            "chatd_store_held_bytes 7",
            "chatd_store_failing 1",
            "chatd_engine_batch_events_bucket{le=\"4.0\"} 1",
            "chatd_engine_batch_events_count 1",
            "chatd_store_commit_duration_seconds_count 0",
        ] {
            assert!(text.lines().any(|l| l.starts_with(line)), "no line starts with {line:?} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
