//! Results: the machine they were measured on, a table for people and a JSON file for tools.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::stats::Figure;

/// The machine and the conditions of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub postgres: Option<String>,
    /// Load averages (1, 5, 15 min) when the run started and ended: other work on the machine
    /// disturbs the figures.
    pub load_average_start: String,
    pub load_average_end: String,
}

impl Machine {
    pub fn probe(postgres: Option<String>) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        Machine {
            cpu,
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_gib: (memory_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_string(),
            postgres,
            load_average_start: load_average(),
            load_average_end: String::new(),
        }
    }
}

/// The first three fields of /proc/loadavg.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything a run produced.
#[derive(Debug, Serialize)]
pub struct Results {
    pub command: String,
    pub started_at: String,
    pub seed: u64,
    pub machine: Machine,
    pub figures: Vec<Figure>,
}

impl Results {
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("create {}", parent.display()))?;
        }
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("write {}", path.display()))
    }

    /// A Markdown table: each figure, with its ratio to the baselines measured beside it.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| bench | backend | clients | system | ops/s | p50 ms | p99 ms | vs baselines | note |"
        );
        let _ = writeln!(out, "|---|---|---:|---|---:|---:|---:|---|---|");
        for figure in &self.figures {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {} | {} |",
                figure.bench,
                figure.backend,
                figure.clients,
                figure.system,
                thousands(figure.operations_per_second),
                figure.latency_ms_p50,
                figure.latency_ms_p99,
                self.comparison(figure),
                figure.note
            );
        }
        out
    }

    /// How a ledger figure compares with the baselines of the same bench, backend and load.
    fn comparison(&self, figure: &Figure) -> String {
        let Some(baselines) = baselines_of(&figure.system) else {
            return String::new();
        };
        baselines
            .iter()
            .filter_map(|(baseline, kind)| {
                let other = self.figures.iter().find(|f| {
                    f.bench == figure.bench
                        && f.backend == figure.backend
                        && f.clients == figure.clients
                        && f.system == *baseline
                })?;
                (other.operations_per_second > 0.0).then(|| {
                    let ratio = figure.operations_per_second / other.operations_per_second;
                    match kind {
                        Ratio::Times => format!("{ratio:.2}x {baseline}"),
                        Ratio::Percent => format!("{:.0}% of {baseline}", ratio * 100.0),
                    }
                })
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

enum Ratio {
    Times,
    Percent,
}

/// The baselines each measured system is compared with.
fn baselines_of(system: &str) -> Option<Vec<(&'static str, Ratio)>> {
    match system {
        "ledger (hash chain)" => Some(vec![
            ("group commit INSERT", Ratio::Percent),
            ("esrs 0.18 PgStore", Ratio::Times),
            ("raw INSERT x100", Ratio::Percent),
            ("ledger, serial writer", Ratio::Times),
        ]),
        "ledger, serial writer" => Some(vec![("esrs 0.18 PgStore", Ratio::Times)]),
        "fold into all projections" => Some(vec![("read + deserialise only", Ratio::Percent)]),
        _ => None,
    }
}

/// 12345.6 → "12,346".
pub fn thousands(value: f64) -> String {
    let whole = value.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(12_345.6), "12,346");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
