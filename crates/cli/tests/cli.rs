//! The binary's basic contract. (Its presence also makes `cargo test` build the binary that the
//! end-to-end tests of `tests/` drive.)

use std::process::Command;

fn engagements() -> Command {
    Command::new(env!("CARGO_BIN_EXE_engagements"))
}

#[test]
fn verify_on_a_new_ledger_reports_an_empty_valid_chain() {
    let path = std::env::temp_dir().join(format!("engagements-cli-{}.db", uuid::Uuid::now_v7()));
    let output = engagements()
        .args(["--db", &format!("sqlite://{}", path.display()), "verify"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("events:        0"), "{stdout}");
    assert!(stdout.contains("chain:         OK"), "{stdout}");
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
