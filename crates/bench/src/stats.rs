//! Figures: throughput and latency percentiles of one measured system.

use std::time::Duration;

use serde::Serialize;

/// Latencies of one run, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    micros: Vec<u32>,
}

impl Latencies {
    pub fn record(&mut self, elapsed: Duration) {
        self.micros
            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
    }

    /// Records the same latency for `count` operations (the rows of one transaction).
    pub fn record_many(&mut self, elapsed: Duration, count: usize) {
        for _ in 0..count {
            self.record(elapsed);
        }
    }

    pub fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    pub fn count(&self) -> usize {
        self.micros.len()
    }

    /// The `percent` percentile in milliseconds (nearest rank), 0 when empty.
    pub fn percentile_ms(&mut self, percent: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        self.micros.sort_unstable();
        let rank = ((percent / 100.0) * self.micros.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.micros.len()) - 1;
        f64::from(self.micros[index]) / 1000.0
    }
}

/// One measured figure: a system, on a backend, under a load.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// `append`, `replay`, `as_of`, `report`, `http_report`, `memory`, `instances`.
    pub bench: String,
    /// What was measured (e.g. `ledger`, `esrs PgStore`, `raw INSERT ×100`).
    pub system: String,
    pub backend: String,
    pub clients: usize,
    /// Operations done (commands, events, reports…).
    pub operations: u64,
    pub seconds: f64,
    pub operations_per_second: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    /// Free-form extra measure (e.g. peak RSS in MiB), with its unit in `note`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Figure {
    /// A throughput figure from latencies measured over `elapsed`.
    pub fn throughput(
        bench: &str,
        system: &str,
        backend: &str,
        clients: usize,
        mut latencies: Latencies,
        elapsed: Duration,
    ) -> Figure {
        let seconds = elapsed.as_secs_f64();
        let operations = latencies.count() as u64;
        Figure {
            bench: bench.to_string(),
            system: system.to_string(),
            backend: backend.to_string(),
            clients,
            operations,
            seconds,
            operations_per_second: if seconds > 0.0 {
                operations as f64 / seconds
            } else {
                0.0
            },
            latency_ms_p50: latencies.percentile_ms(50.0),
            latency_ms_p99: latencies.percentile_ms(99.0),
            value: None,
            note: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut latencies = Latencies::default();
        for ms in 1..=100u64 {
            latencies.record(Duration::from_millis(ms));
        }
        assert_eq!(latencies.percentile_ms(50.0), 50.0);
        assert_eq!(latencies.percentile_ms(99.0), 99.0);
        assert_eq!(latencies.percentile_ms(100.0), 100.0);
        assert_eq!(Latencies::default().percentile_ms(99.0), 0.0);
    }
}
