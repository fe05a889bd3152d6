//! Counters for Prometheus, kept with atomics (no registry needed): commands by outcome, their
//! latencies, HTTP requests by status class. Log position and projection lag are read at scrape.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the command latency histogram.
const LATENCY_BUCKETS_SECONDS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Server-wide counters.
#[derive(Debug, Default)]
pub struct Metrics {
    commands_accepted: AtomicU64,
    commands_duplicate: AtomicU64,
    commands_refused: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS_SECONDS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    http_2xx: AtomicU64,
    http_4xx: AtomicU64,
    http_5xx: AtomicU64,
}

/// What happened to a command.
#[derive(Debug, Clone, Copy)]
pub enum CommandOutcome {
    Accepted,
    Duplicate,
    Refused,
}

impl Metrics {
    /// Counts one command and its latency.
    pub fn record_command(&self, outcome: CommandOutcome, latency: Duration) {
        let counter = match outcome {
            CommandOutcome::Accepted => &self.commands_accepted,
            CommandOutcome::Duplicate => &self.commands_duplicate,
            CommandOutcome::Refused => &self.commands_refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let seconds = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS_SECONDS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts one HTTP answer by its status.
    pub fn record_http(&self, status: u16) {
        let counter = match status {
            500.. => &self.http_5xx,
            400..=499 => &self.http_4xx,
            _ => &self.http_2xx,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, log_position: i64, projection_position: i64) -> String {
        let mut out = String::new();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP engagements_commands_total Commands received over HTTP, by outcome."
        );
        let _ = writeln!(out, "# TYPE engagements_commands_total counter");
        for (outcome, counter) in [
            ("accepted", &self.commands_accepted),
            ("duplicate", &self.commands_duplicate),
            ("refused", &self.commands_refused),
        ] {
            let _ = writeln!(
                out,
                "engagements_commands_total{{outcome=\"{outcome}\"}} {}",
                load(counter)
            );
        }
        let _ = writeln!(out, "# HELP engagements_command_duration_seconds Time to decide and durably record a command.");
        let _ = writeln!(out, "# TYPE engagements_command_duration_seconds histogram");
        for (bound, bucket) in LATENCY_BUCKETS_SECONDS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "engagements_command_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                load(bucket)
            );
        }
        let count = load(&self.latency_count);
        let _ = writeln!(
            out,
            "engagements_command_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = load(&self.latency_sum_micros) as f64 / 1e6;
        let _ = writeln!(out, "engagements_command_duration_seconds_sum {sum}");
        let _ = writeln!(out, "engagements_command_duration_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP engagements_http_responses_total HTTP answers by status class."
        );
        let _ = writeln!(out, "# TYPE engagements_http_responses_total counter");
        for (class, counter) in [
            ("2xx", &self.http_2xx),
            ("4xx", &self.http_4xx),
            ("5xx", &self.http_5xx),
        ] {
            let _ = writeln!(
                out,
                "engagements_http_responses_total{{class=\"{class}\"}} {}",
                load(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP engagements_log_position Position of the last event in the log."
        );
        let _ = writeln!(out, "# TYPE engagements_log_position gauge");
        let _ = writeln!(out, "engagements_log_position {log_position}");
        let _ = writeln!(out, "# HELP engagements_projection_position Position of the last event folded into the read model.");
        let _ = writeln!(out, "# TYPE engagements_projection_position gauge");
        let _ = writeln!(out, "engagements_projection_position {projection_position}");
        let _ = writeln!(out, "# HELP engagements_projection_lag_events Events recorded but not yet folded into the read model.");
        let _ = writeln!(out, "# TYPE engagements_projection_lag_events gauge");
        let lag = (log_position - projection_position).max(0);
        let _ = writeln!(out, "engagements_projection_lag_events {lag}");
        out
    }
}
