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

    fn json(&self) -> Value {
        json!({ "count": self.count, "p50_ms": self.p50, "p99_ms": self.p99, "p999_ms": self.p999, "max_ms": self.max })
    }

    fn text(&self) -> String {
        format!("p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms", self.p50, self.p99, self.p999, self.max)
    }
}

/// The server's resident memory around a capacity run.
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

/// Everything a run found out.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// What ran.
    pub mode: Mode,
    /// Against what.
    pub addr: SocketAddr,
    /// Clients.
    pub clients: usize,
    /// Rooms.
    pub rooms: usize,
    /// Worker threads.
    pub threads: usize,
    /// Messages per second offered.
    pub rate: f64,
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
    /// Server memory (capacity mode).
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
        json!({
            "mode": format!("{:?}", self.mode).to_lowercase(),
            "addr": self.addr.to_string(),
            "clients": self.clients,
            "rooms": self.rooms,
            "threads": self.threads,
            "rate_msgs_per_sec": self.rate,
            "size_bytes": self.size,
            "warmup_secs": self.warmup,
            "duration_secs": self.duration,
            "setup_secs": self.setup_secs,
            "ready": self.ready,
            "connect": self.connect.map(|p| p.json()),
            "sent": self.sent,
            "send_errors": self.send_errors,
            "expected_deliveries": self.expected,
            "delivered": self.delivered,
            "offered_deliveries_per_sec": self.offered_per_sec,
            "achieved_deliveries_per_sec": self.achieved_per_sec,
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

    /// The summary as a screenful of text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let mode = format!("{:?}", self.mode).to_lowercase();
        let _ = writeln!(
            s,
            "loadgen {mode} → {}: {} clients, {} room(s), {} thread(s)",
            self.addr, self.clients, self.rooms, self.threads
        );
        let _ = writeln!(s, "  setup     {}/{} ready in {:.2} s", self.ready, self.clients, self.setup_secs);
        if let Some(c) = self.connect {
            let _ = writeln!(s, "  connect   {}", c.text());
        }
        if self.mode != Mode::Capacity {
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
            addr: "127.0.0.1:7000".parse().expect("addr"),
            clients: 10,
            rooms: 1,
            threads: 1,
            rate: 100.0,
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
