//! The audit commands end to end through the binary: keys, checkpoint, verify against it, export
//! an audit bundle, verify it offline, and catch an edit of it.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_engagements"))
        .current_dir(dir)
        .env(
            "ENGAGEMENTS_DB",
            format!("sqlite://{}", dir.join("l.db").display()),
        )
        .env("ENGAGEMENTS_KEY", dir.join("ledger.key"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn checkpoint_export_and_verify_through_the_binary() {
    let dir = std::env::temp_dir().join(format!("engagements-audit-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.as_path();
    ok(d, &["init"]);
    ok(d, &["keys", "init"]);
    assert!(
        run(d, &["keys", "init"]).status.code() == Some(2),
        "a key is never overwritten"
    );
    ok(d, &["keys", "public", "--out", "ledger.pub"]);
    let out = ok(d, &["checkpoint", "--out", "kept.json"]);
    assert!(out.contains("checkpoint over position"), "{out}");
    let out = ok(
        d,
        &[
            "verify",
            "--checkpoint",
            "kept.json",
            "--public-key",
            "ledger.pub",
        ],
    );
    assert!(out.contains("the log extends it"), "{out}");
    ok(
        d,
        &[
            "export",
            "audit",
            "--out",
            "bundle",
            "--referential",
            "/nonexistent",
        ],
    );
    let out = ok(
        d,
        &[
            "verify",
            "--bundle",
            "bundle",
            "--public-key",
            "ledger.pub",
            "--checkpoint",
            "kept.json",
        ],
    );
    assert!(out.contains("bundle:        OK"), "{out}");
    let history = ok(d, &["history", "checkpoints", "--format", "json"]);
    assert!(history.contains("CheckpointSigned"), "{history}");
    ok(d, &["findings", "--format", "csv"]);

    let events = d.join("bundle/events.jsonl");
    let text = std::fs::read_to_string(&events).unwrap();
    std::fs::write(&events, text.replacen("\"version\":1", "\"version\": 1", 1)).unwrap();
    let output = run(d, &["verify", "--bundle", "bundle"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("events.jsonl"));
}
