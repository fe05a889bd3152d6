//! The binary's basic contract. (Its presence also makes `cargo test` build the binary that the
//! end-to-end tests of `tests/` drive.)

use std::process::Command;

fn engagements() -> Command {
    Command::new(env!("CARGO_BIN_EXE_engagements"))
}

#[test]
fn verify_on_a_missing_ledger_says_so_and_creates_nothing() {
    let path = std::env::temp_dir().join(format!("engagements-cli-{}.db", uuid::Uuid::now_v7()));
    let output = engagements()
        .args(["--db", &format!("sqlite://{}", path.display()), "verify"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no ledger at sqlite://"), "{stderr}");
    assert!(!path.exists(), "verify created {}", path.display());
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let output = engagements()
        .args(["--db", "mysql://nowhere", "verify"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("use sqlite://PATH or postgres://"),
        "{stderr}"
    );
}
