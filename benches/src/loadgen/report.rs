//! The end-of-run summary: one screen of text, or one JSON object.

use std::fmt::Write;
use std::net::SocketAddr;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::cli::Mode;
use super::ledger::Lost;

/// Percentiles of a time distribution, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// From a histogram of nanoseconds; `None` when it is empty.
    pub fn of_ns(h: &Histogram<u64>) -> Option<Self> {
        let ms = |ns: u64| ns as f64 / 1e6;
        (!h.is_empty()).then(|| Percentiles {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        })
    }

    /// As a JSON object.
    pub fn json(&self) -> Value {
        json!({ "count": self.count, "p50_ms": self.p50, "p99_ms": self.p99, "p999_ms": self.p999, "max_ms": self.max })
    }

    /// As one line of text.
    pub fn text(&self) -> String {
        format!("p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms", self.p50, self.p99, self.p999, self.max)
    }
}

/// The server's resident memory with every client connected and idle
/// (capacity mode, or `--idle-hold`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    /// The server process.
    pub pid: u32,
    /// VmRSS before loadgen connected, KiB.
    pub before_kib: u64,
    /// VmRSS with every connection open, at the end of the hold, KiB.
    pub after_kib: u64,
    /// Highest VmRSS sampled while holding, KiB.
    pub peak_kib: u64,
    /// `(after - before) / connections`, bytes.
    pub per_connection_bytes: f64,
}

/// The shape of a burst run, and how long its deliveries took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Clients that sent.
    pub senders: usize,
    /// Lines each sender wrote per burst, in one write.
    pub lines: u64,
    /// Bursts sent.
    pub bursts: u64,
    /// Seconds of quiet before each burst.
    pub gap: f64,
    /// Lines the release write did not get into the socket whole, so that
    /// they went out a little after the others.
    pub held_back: u64,
    /// Milliseconds from a burst's release until its last delivery
    /// arrived, for the slowest burst; `None` if nothing arrived.
    pub last_delivery_ms: Option<f64>,
    /// How the clients that only read fared; `None` if every client sent.
    pub readers: Option<Readers>,
}

/// The clients of a burst run that send nothing and only read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readers {
    /// How many.
    pub clients: usize,
    /// How many of them were cut.
    pub cut: usize,
    /// Deliveries they should have had, together.
    pub expected: u64,
    /// Deliveries they had.
    pub received: u64,
    /// `(received, expected)` of the reader that received the fewest.
    pub fewest: (u64, u64),
}

/// Everything a run found out.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// What ran.
    pub mode: Mode,
    /// Against what (several: a cluster's nodes, clients taken in turn).
    pub addr: Vec<SocketAddr>,
    /// Clients.
    pub clients: usize,
    /// Rooms.
    pub rooms: usize,
    /// Worker threads.
    pub threads: usize,
    /// Messages per second offered (steady schedule).
    pub rate: f64,
    /// The burst schedule's shape and timing; `None` for a steady run.
    pub burst: Option<Burst>,
    /// Message text bytes.
    pub size: usize,
    /// Warm-up seconds.
    pub warmup: f64,
    /// Measurement seconds.
    pub duration: f64,
    /// Seconds from the first connect until every client was ready.
    pub setup_secs: f64,
    /// Clients that became ready.
    pub ready: usize,
    /// Time to open each connection.
    pub connect: Option<Percentiles>,
    /// Messages written.
    pub sent: u64,
    /// Messages whose write failed.
    pub send_errors: u64,
    /// Deliveries the sent messages should make.
    pub expected: u64,
    /// Distinct expected deliveries received.
    pub delivered: u64,
    /// Deliveries per second the schedule offers.
    pub offered_per_sec: f64,
    /// Expected deliveries received per second inside the measurement window.
    pub achieved_per_sec: f64,
    /// Delivery latency from the intended send time (measurement window only).
    pub latency: Option<Percentiles>,
    /// Expected deliveries that never came.
    pub lost: Lost,
    /// Extra copies received.
    pub duplicates: u64,
    /// Deliveries to clients that should not have had them.
    pub misdelivered: u64,
    /// Error lines from the server after setup.
    pub server_errors: u64,
    /// Clients cut: connections closed by the server or failed after
    /// setup and before the end.
    pub cut: u64,
    /// How many clients were cut for each reason the server gave (or
    /// [`NO_REASON`]), most frequent first.
    pub cut_reasons: Vec<(String, u64)>,
    /// Server memory (capacity mode, or `--idle-hold`).
    pub memory: Option<Memory>,
    /// The first problem seen, if any.
    pub first_error: Option<String>,
    /// Whether the run could not be set up or was cut short.
    pub aborted: bool,
}

/// The reason shown for a client cut without a goodbye or a notice.
pub const NO_REASON: &str = "closed without a reason";

/// Tallies the reasons clients were cut: most frequent first, then by name.
pub fn tally_reasons(reasons: impl IntoIterator<Item = Option<String>>) -> Vec<(String, u64)> {
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for reason in reasons {
        *counts.entry(reason.unwrap_or_else(|| NO_REASON.to_owned())).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

impl Summary {
    /// 0: clean; 1: a lost, duplicated or misdelivered delivery, or a
    /// client cut by the server; 2: the run could not be set up or was
    /// aborted.
    pub fn exit_code(&self) -> i32 {
        if self.aborted {
            2
        } else if self.lost.total + self.duplicates + self.misdelivered + self.cut > 0 {
            1
        } else {
            0
        }
    }

    /// The summary as one JSON object.
    pub fn to_json(&self) -> Value {
        // Rates and the measurement window mean nothing for a burst run.
        let steady = |x: f64| self.burst.is_none().then_some(x);
        json!({
            "mode": format!("{:?}", self.mode).to_lowercase(),
            "addr": self.addr_text(),
            "clients": self.clients,
            "rooms": self.rooms,
            "threads": self.threads,
            "schedule": if self.burst.is_some() { "burst" } else { "steady" },
            "rate_msgs_per_sec": steady(self.rate),
            "size_bytes": self.size,
            "warmup_secs": steady(self.warmup),
            "duration_secs": steady(self.duration),
            "burst": self.burst.map(|b| json!({
                "senders": b.senders,
                "lines_per_sender": b.lines,
                "bursts": b.bursts,
                "gap_secs": b.gap,
                "held_back": b.held_back,
                "last_delivery_ms": b.last_delivery_ms,
                "readers": b.readers.map(|r| json!({
                    "clients": r.clients,
                    "cut": r.cut,
                    "expected": r.expected,
                    "received": r.received,
                    "fewest_received": r.fewest.0,
                    "fewest_expected": r.fewest.1,
                })),
            })),
            "setup_secs": self.setup_secs,
            "ready": self.ready,
            "connect": self.connect.map(|p| p.json()),
            "sent": self.sent,
            "send_errors": self.send_errors,
            "expected_deliveries": self.expected,
            "delivered": self.delivered,
            "offered_deliveries_per_sec": steady(self.offered_per_sec),
            "achieved_deliveries_per_sec": steady(self.achieved_per_sec),
            "latency": self.latency.map(|p| p.json()),
            "lost": self.lost.total,
            "lost_to_cut_clients": self.lost.to_cut,
            "lost_from_cut_senders": self.lost.from_cut,
            "duplicates": self.duplicates,
            "misdelivered": self.misdelivered,
            "server_errors": self.server_errors,
            "cut": self.cut,
            "cut_reasons": self.cut_reasons.iter().map(|(r, n)| (r.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "memory": self.memory.map(|m| json!({
                "pid": m.pid,
                "rss_before_kib": m.before_kib,
                "rss_after_kib": m.after_kib,
                "rss_peak_kib": m.peak_kib,
                "rss_per_connection_bytes": m.per_connection_bytes,
            })),
            "first_error": self.first_error,
            "aborted": self.aborted,
            "exit_code": self.exit_code(),
        })
    }

    /// The server addresses, comma-separated.
    fn addr_text(&self) -> String {
        self.addr.iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(",")
    }

    /// The summary as a screenful of text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let mode = format!("{:?}", self.mode).to_lowercase();
        let _ = writeln!(
            s,
            "loadgen {mode} → {}: {} clients, {} room(s), {} thread(s)",
            self.addr_text(),
            self.clients,
            self.rooms,
            self.threads
        );
        let _ = writeln!(s, "  setup     {}/{} ready in {:.2} s", self.ready, self.clients, self.setup_secs);
        if let Some(c) = self.connect {
            let _ = writeln!(s, "  connect   {}", c.text());
        }
        match (self.mode, self.burst) {
            (Mode::Capacity, _) => {}
            (_, None) => {
                let _ = writeln!(
                    s,
                    "  schedule  {} msg/s × {} B, {} s warm-up + {} s measured",
                    self.rate, self.size, self.warmup, self.duration
                );
                let _ = writeln!(s, "  sent      {} messages ({} send errors)", self.sent, self.send_errors);
                let _ = writeln!(
                    s,
                    "  delivered {} of {} expected; offered {}/s, achieved {}/s",
                    self.delivered,
                    self.expected,
                    si(self.offered_per_sec),
                    si(self.achieved_per_sec)
                );
                match self.latency {
                    Some(l) => _ = writeln!(s, "  latency   {} ({} timed)", l.text(), l.count),
                    None => _ = writeln!(s, "  latency   none timed"),
                }
            }
            (_, Some(b)) => {
                let _ = writeln!(
                    s,
                    "  burst     {} senders × {} lines × {} B at once; {} burst{}, {} s of quiet before each",
                    b.senders,
                    b.lines,
                    self.size,
                    b.bursts,
                    if b.bursts == 1 { "" } else { "s" },
                    b.gap
                );
                let _ = writeln!(
                    s,
                    "  sent      {} messages ({} send errors, {} held back by a full socket)",
                    self.sent, self.send_errors, b.held_back
                );
                let last = match b.last_delivery_ms {
                    Some(ms) => format!("the last {ms:.3} ms after its release"),
                    None => "none arrived".to_owned(),
                };
                let _ = writeln!(s, "  delivered {} of {} expected; {last}", self.delivered, self.expected);
                if let Some(r) = b.readers {
                    let fewest = if r.clients > 1 {
                        format!(" (fewest {} of {})", r.fewest.0, r.fewest.1)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        s,
                        "  readers   {} client{} only reading: {} cut; received {} of {}{fewest}",
                        r.clients,
                        if r.clients == 1 { "" } else { "s" },
                        r.cut,
                        r.received,
                        r.expected
                    );
                }
                match self.latency {
                    Some(l) => _ = writeln!(s, "  latency   {} ({} from release)", l.text(), l.count),
                    None => _ = writeln!(s, "  latency   none"),
                }
            }
        }
        if let Some(m) = self.memory {
            let _ = writeln!(
                s,
                "  memory    pid {}: VmRSS {} KiB → {} KiB (peak {} KiB): {:.0} bytes per connection",
                m.pid, m.before_kib, m.after_kib, m.peak_kib, m.per_connection_bytes
            );
        }
        let explained = match self.lost {
            Lost { to_cut: 0, from_cut: 0, .. } => String::new(),
            Lost { to_cut, from_cut, .. } => format!(" ({to_cut} to cut clients, {from_cut} from cut senders)"),
        };
        let _ = writeln!(
            s,
            "  errors    lost {}{explained}, duplicated {}, misdelivered {}, server errors {}, cut {}",
            self.lost.total, self.duplicates, self.misdelivered, self.server_errors, self.cut
        );
        if self.cut > 0 {
            let reasons = match self.cut_reasons.as_slice() {
                [(reason, _)] => reason.clone(),
                many => many.iter().map(|(reason, n)| format!("{reason}: {n}")).collect::<Vec<_>>().join("; "),
            };
            let _ = writeln!(s, "  cut       {} client{} ({reasons})", self.cut, if self.cut == 1 { "" } else { "s" });
        }
        if let Some(e) = &self.first_error {
            let _ = writeln!(s, "  first     {e}");
        }
        let verdict = match self.exit_code() {
            0 => "OK",
            1 => "FAILED: deliveries lost, duplicated or misdelivered, or clients cut",
            _ => "ABORTED",
        };
        let _ = writeln!(s, "  result    {verdict}");
        s
    }
}

/// A rate with a k/M suffix.
pub fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.3}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            mode: Mode::Chat,
            addr: vec!["127.0.0.1:7000".parse().expect("addr")],
            clients: 10,
            rooms: 1,
            threads: 1,
            rate: 100.0,
            burst: None,
            size: 64,
            warmup: 1.0,
            duration: 2.0,
            setup_secs: 0.1,
            ready: 10,
            connect: None,
            sent: 300,
            send_errors: 0,
            expected: 2700,
            delivered: 2700,
            offered_per_sec: 900.0,
            achieved_per_sec: 900.0,
            latency: None,
            lost: Lost::default(),
            duplicates: 0,
            misdelivered: 0,
            server_errors: 0,
            cut: 0,
            cut_reasons: Vec::new(),
            memory: None,
            first_error: None,
            aborted: false,
        }
    }

    #[test]
    fn exit_code_reflects_correctness_not_speed() {
        let mut s = summary();
        assert_eq!(s.exit_code(), 0);
        s.duplicates = 1;
        assert_eq!(s.exit_code(), 1);
        s.duplicates = 0;
        s.cut = 1;
        assert_eq!(s.exit_code(), 1);
        s.aborted = true;
        assert_eq!(s.exit_code(), 2);
    }

    #[test]
    fn json_and_text_carry_the_figures() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram");
        for ns in [1_000_000, 2_000_000, 3_000_000] {
            h.record(ns).expect("in range");
        }
        let mut s = summary();
        s.latency = Percentiles::of_ns(&h);
        let json = s.to_json();
        assert_eq!(json["lost"], 0);
        assert_eq!(json["latency"]["count"], 3);
        assert!((json["latency"]["max_ms"].as_f64().expect("max") - 3.0).abs() < 0.01);
        let text = s.to_text();
        assert!(text.contains("result    OK"), "{text}");
        assert!(text.lines().count() <= 12);
        assert_eq!(si(1_498_600.0), "1.499M");
    }

    #[test]
    fn a_burst_run_reports_its_shape_and_the_time_to_the_last_delivery() {
        let mut s = summary();
        s.clients = 41;
        s.size = 1900;
        s.sent = 400;
        s.expected = 400;
        s.delivered = 400;
        s.burst = Some(Burst {
            senders: 40,
            lines: 10,
            bursts: 1,
            gap: 3.0,
            held_back: 0,
            last_delivery_ms: Some(12.5),
            readers: None,
        });
        let text = s.to_text();
        assert!(text.contains("40 senders × 10 lines × 1900 B at once; 1 burst, 3 s of quiet"), "{text}");
        assert!(text.contains("delivered 400 of 400 expected; the last 12.500 ms after its release"), "{text}");
        assert!(!text.contains("msg/s") && !text.contains("readers"), "{text}");
        let readers = Readers { clients: 1, cut: 1, expected: 400, received: 0, fewest: (0, 400) };
        s.burst = s.burst.map(|b| Burst { readers: Some(readers), ..b });
        assert!(s.to_text().contains("readers   1 client only reading: 1 cut; received 0 of 400\n"), "{}", s.to_text());
        let readers = Readers { clients: 3, cut: 1, expected: 1200, received: 900, fewest: (100, 400) };
        s.burst = s.burst.map(|b| Burst { readers: Some(readers), ..b });
        assert!(s.to_text().contains("3 clients only reading: 1 cut; received 900 of 1200 (fewest 100 of 400)"));
        assert_eq!(s.to_json()["burst"]["readers"]["fewest_received"], 100);
        let json = s.to_json();
        assert_eq!(json["schedule"], "burst");
        assert_eq!(json["burst"]["lines_per_sender"], 10);
        assert_eq!(json["burst"]["last_delivery_ms"], 12.5);
        assert!(json["rate_msgs_per_sec"].is_null() && json["achieved_deliveries_per_sec"].is_null());
        assert_eq!(summary().to_json()["schedule"], "steady");
        assert!(summary().to_json()["burst"].is_null());
    }

    #[test]
    fn cut_clients_are_reported_with_their_reasons() {
        let mut s = summary();
        s.lost = Lost { total: 410, to_cut: 400, from_cut: 10 };
        s.cut = 3;
        s.cut_reasons = tally_reasons([Some("send queue exceeded".into()), None, Some("send queue exceeded".into())]);
        assert_eq!(s.cut_reasons, [("send queue exceeded".into(), 2), (NO_REASON.into(), 1)]);
        let text = s.to_text();
        assert!(text.contains("lost 410 (400 to cut clients, 10 from cut senders)"), "{text}");
        assert!(text.contains(&format!("cut       3 clients (send queue exceeded: 2; {NO_REASON}: 1)")), "{text}");
        assert!(text.contains("clients cut"), "{text}");
        let json = s.to_json();
        assert_eq!((json["cut"].as_u64(), json["lost"].as_u64()), (Some(3), Some(410)));
        assert_eq!(json["cut_reasons"]["send queue exceeded"], 2);
        assert_eq!(json["exit_code"], 1);
        s.cut = 1;
        s.cut_reasons = tally_reasons([Some("send queue exceeded".into())]);
        assert!(s.to_text().contains("cut       1 client (send queue exceeded)\n"));
    }
}
