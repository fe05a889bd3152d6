//! Support for the end-to-end tests under `tests/tests/`: find the `engagements` binary, run it
//! against a throwaway database of each backend, read its output.

pub mod http;

use std::path::PathBuf;
use std::process::{Command, Output};

pub use engagements_store::testing::{self, TestDb};

/// The `engagements` binary built by `cargo test` (the cli crate's own integration tests make
/// cargo build it before any test runs).
pub fn engagements_bin() -> PathBuf {
    let mut dir = std::env::current_exe().expect("test executable path");
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(format!("engagements{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (or `cargo build --bin engagements`) first",
        bin.display()
    );
    bin
}

/// A command line for the binary on database `db`.
pub fn engagements(db: &TestDb) -> Command {
    let mut command = Command::new(engagements_bin());
    command
        .env("ENGAGEMENTS_DB", &db.url)
        .env_remove("RUST_LOG");
    command
}

/// Runs the binary with `args` on `db` and returns its output; panics with stderr on failure.
pub fn run_ok(db: &TestDb, args: &[&str]) -> Output {
    let output = engagements(db)
        .args(args)
        .output()
        .expect("run engagements");
    assert!(
        output.status.success(),
        "engagements {args:?} failed on {}: {}\n{}",
        db.backend,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    output
}

/// Runs the binary and parses its standard output as JSON.
pub fn run_json(db: &TestDb, args: &[&str]) -> serde_json::Value {
    let output = run_ok(db, args);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "engagements {args:?} did not print JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// One database per backend (PostgreSQL mandatory when CI=true).
pub async fn backends() -> Vec<TestDb> {
    testing::all().await
}
