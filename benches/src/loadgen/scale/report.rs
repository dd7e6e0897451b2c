//! Scale mode's summary: the run's parameters and every figure, as text
//! or one JSON object.

use std::fmt::Write;

use serde_json::{Value, json};

use super::super::report::{Percentiles, si};
use super::probe::Answer;

/// A figure read before connecting and again with everyone held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delta {
    /// Before the first connection, KiB.
    pub before_kib: u64,
    /// With every connection held, KiB.
    pub after_kib: u64,
}

impl Delta {
    /// From two optional readings.
    pub fn of(before: Option<u64>, after: Option<u64>) -> Option<Self> {
        Some(Self { before_kib: before?, after_kib: after? })
    }

    /// Bytes per connection: the growth over `connections`.
    pub fn per_connection(&self, connections: usize) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) * 1024.0 / connections.max(1) as f64
    }

    fn json(d: Option<Self>, connections: usize) -> Value {
        d.map_or(Value::Null, |d| {
            json!({"before_kib": d.before_kib, "after_kib": d.after_kib, "per_connection_bytes": d.per_connection(connections)})
        })
    }

    fn text(d: Option<Self>, connections: usize) -> String {
        d.map_or_else(
            || "unknown".into(),
            |d| {
                format!(
                    "{} → {} KiB, {:.0} bytes per connection",
                    d.before_kib,
                    d.after_kib,
                    d.per_connection(connections)
                )
            },
        )
    }
}

/// The broadcast probe in room 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// Members of room 0, the sender included.
    pub members: usize,
    /// Messages sent.
    pub sent: u64,
    /// Deliveries owed: each message to every other member.
    pub expected: u64,
    /// First copies received.
    pub delivered: u64,
    /// Second and later copies.
    pub duplicates: u64,
    /// Messages that were not the probe's.
    pub misdelivered: u64,
    /// Error lines the members of room 0 got, such as the sender's flood
    /// control refusing messages (run chatd with `--flood-lines-per-sec 0`
    /// or keep `--probe-rate` under its allowance).
    pub refused: u64,
    /// Send time to receipt, every delivery.
    pub latency: Option<Percentiles>,
}

/// Everything a scale run found out, with the parameters that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSummary {
    /// The command-line parameters that matter, by flag name.
    pub params: Value,
    /// Connections asked for.
    pub clients: usize,
    /// Connections named and in their room.
    pub ready: usize,
    /// Seconds from the first connect until everyone had joined.
    pub setup_secs: f64,
    /// The server process, if found.
    pub server_pid: Option<u32>,
    /// The server's VmRSS.
    pub server_rss: Option<Delta>,
    /// The kernel's `Slab` (machine-wide: both ends of every connection).
    pub slab: Option<Delta>,
    /// The kernel's `SUnreclaim`.
    pub slab_unreclaimable: Option<Delta>,
    /// loadgen's own VmRSS.
    pub loadgen_rss: Option<Delta>,
    /// The server's CPU while everyone was held idle, % of one core.
    pub idle_cpu_percent: Option<f64>,
    /// The broadcast probe, if it ran.
    pub broadcast: Option<Broadcast>,
    /// Milliseconds for a new connection to connect, name itself and join.
    pub new_connection_ms: Result<f64, String>,
    /// Each probed command and its answer.
    pub commands: Vec<(String, Result<Answer, String>)>,
    /// Seconds loadgen took to close every connection.
    pub close_secs: f64,
    /// Seconds from the start of closing until the server's open files
    /// were back to what they were before the run (if readable).
    pub server_release_secs: Option<f64>,
    /// After closing: a new connection named, in milliseconds,
    /// or why not.
    pub reconnect_ms: Result<f64, String>,
    /// Whether the server process was still running at the end.
    pub server_alive: Option<bool>,
    /// Clients cut by the server while held.
    pub cut: u64,
    /// The first thing that went wrong.
    pub first_error: Option<String>,
    /// Setup failed or timed out.
    pub aborted: bool,
}

impl ScaleSummary {
    /// Deliveries the broadcast probe lost.
    pub fn lost(&self) -> u64 {
        self.broadcast.as_ref().map_or(0, |b| b.expected.saturating_sub(b.delivered))
    }

    /// 0 when everything worked; 1 for lost, duplicated or misdelivered
    /// messages, cut clients, a failed probe or a dead server; 2 if the
    /// run could not be set up.
    pub fn exit_code(&self) -> i32 {
        if self.aborted {
            return 2;
        }
        let broadcast_bad =
            self.broadcast.as_ref().is_none_or(|b| b.duplicates + b.misdelivered + b.refused > 0 || b.sent == 0);
        let probes_bad = self.new_connection_ms.is_err()
            || self.reconnect_ms.is_err()
            || self.commands.iter().any(|(_, a)| a.is_err())
            || self.server_alive == Some(false);
        i32::from(self.lost() > 0 || broadcast_bad || probes_bad || self.cut > 0)
    }

    /// The summary as one JSON object.
    pub fn to_json(&self) -> Value {
        let n = self.ready;
        let ms = |r: &Result<f64, String>| r.as_ref().map_or_else(|e| json!({"error": e}), |ms| json!(ms));
        json!({
            "mode": "scale",
            "params": self.params,
            "clients": self.clients,
            "ready": self.ready,
            "setup_secs": self.setup_secs,
            "setup_per_sec": self.ready as f64 / self.setup_secs.max(1e-9),
            "server_pid": self.server_pid,
            "server_rss": Delta::json(self.server_rss, n),
            "kernel_slab": Delta::json(self.slab, n),
            "kernel_slab_unreclaimable": Delta::json(self.slab_unreclaimable, n),
            "loadgen_rss": Delta::json(self.loadgen_rss, n),
            "idle_cpu_percent_of_one_core": self.idle_cpu_percent,
            "broadcast": self.broadcast.as_ref().map(|b| json!({
                "members": b.members,
                "sent": b.sent,
                "expected": b.expected,
                "delivered": b.delivered,
                "lost": b.expected.saturating_sub(b.delivered),
                "duplicates": b.duplicates,
                "misdelivered": b.misdelivered,
                "refused": b.refused,
                "latency": b.latency.map(|p| p.json()),
            })),
            "new_connection_ms": ms(&self.new_connection_ms),
            "commands": self.commands.iter().map(|(command, answer)| match answer {
                Ok(a) => json!({"command": command, "first_line_ms": a.first_ms, "end_ms": a.end_ms, "lines": a.lines, "bytes": a.bytes}),
                Err(e) => json!({"command": command, "error": e}),
            }).collect::<Vec<_>>(),
            "close_secs": self.close_secs,
            "server_release_secs": self.server_release_secs,
            "reconnect_ms": ms(&self.reconnect_ms),
            "server_alive": self.server_alive,
            "cut": self.cut,
            "first_error": self.first_error,
            "aborted": self.aborted,
            "exit_code": self.exit_code(),
        })
    }

    /// The summary as text, one figure a line.
    pub fn to_text(&self) -> String {
        let n = self.ready;
        let mut out = String::new();
        let _ = writeln!(out, "scale run: {}", self.params);
        let _ = writeln!(
            out,
            "setup:          {}/{} named and joined in {:.2} s ({}/s)",
            self.ready,
            self.clients,
            self.setup_secs,
            si(self.ready as f64 / self.setup_secs.max(1e-9))
        );
        let pid = self.server_pid.map_or_else(|| "not found".into(), |p| p.to_string());
        let _ = writeln!(out, "server RSS:     {} (pid {pid})", Delta::text(self.server_rss, n));
        let _ = writeln!(out, "kernel Slab:    {} (both ends: loopback)", Delta::text(self.slab, n));
        let _ = writeln!(out, "  SUnreclaim:   {}", Delta::text(self.slab_unreclaimable, n));
        let _ = writeln!(out, "loadgen RSS:    {}", Delta::text(self.loadgen_rss, n));
        let cpu = self.idle_cpu_percent.map_or_else(|| "unknown".into(), |c| format!("{c:.2} % of one core"));
        let _ = writeln!(out, "idle CPU:       {cpu}");
        if let Some(b) = &self.broadcast {
            let _ = writeln!(
                out,
                "broadcast:      {} messages to {} members of room 0: {}/{} delivered, lost {}, duplicates {}, misdelivered {}, refused {}",
                b.sent,
                b.members,
                b.delivered,
                b.expected,
                b.expected.saturating_sub(b.delivered),
                b.duplicates,
                b.misdelivered,
                b.refused
            );
            let latency = b.latency.map_or_else(|| "none".into(), |p| p.text());
            let _ = writeln!(out, "  latency:      {latency}");
        }
        let shown =
            |r: &Result<f64, String>| r.as_ref().map_or_else(|e| format!("FAILED: {e}"), |ms| format!("{ms:.2} ms"));
        let _ = writeln!(out, "new connection: {} (connect, /nick, /join)", shown(&self.new_connection_ms));
        for (command, answer) in &self.commands {
            let _ = match answer {
                Ok(a) => writeln!(
                    out,
                    "{command:<15} first line {:.2} ms, end {:.2} ms ({} lines, {} bytes)",
                    a.first_ms, a.end_ms, a.lines, a.bytes
                ),
                Err(e) => writeln!(out, "{command:<15} FAILED: {e}"),
            };
        }
        let release = self.server_release_secs.map_or_else(|| "unknown".into(), |s| format!("{s:.2} s"));
        let _ =
            writeln!(out, "close:          {:.2} s from our side; server released them in {release}", self.close_secs);
        let alive = match self.server_alive {
            Some(true) => "alive",
            Some(false) => "GONE",
            None => "unknown",
        };
        let _ = writeln!(
            out,
            "afterwards:     server {alive}; a new connection was named in {}",
            shown(&self.reconnect_ms)
        );
        let _ = writeln!(out, "cut:            {}", self.cut);
        if let Some(e) = &self.first_error {
            let _ = writeln!(out, "first error:    {e}");
        }
        if self.aborted {
            let _ = writeln!(out, "ABORTED");
        }
        out
    }
}
