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

/// The fenced `sh` blocks of a Markdown text, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    markdown
        .split("```sh\n")
        .skip(1)
        .filter_map(|rest| rest.split("\n```").next())
        .map(str::to_string)
        .collect()
}

fn bash(dir: &Path, script: &str) -> Output {
    Command::new("bash")
        .current_dir(dir)
        .args(["-euo", "pipefail", "-c", script])
        .output()
        .unwrap()
}

fn tools_present() -> bool {
    ["jq", "openssl", "xxd", "sha256sum"].iter().all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn the_bundle_describes_itself_and_checks_with_no_program_of_ours() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["demo", "--dossiers-per-year", "4"]);
    ok(d, &["keys", "init"]);
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
    let bundle = d.join("bundle");
    let readme = std::fs::read_to_string(bundle.join("LISEZMOI.md")).unwrap();
    // The signed messages, the columns of the log and of every report, the event schemas.
    for text in [
        "## Messages signés",
        "`engagements/checkpoint/v1`, puis `position` (décimal)",
        "`engagements/key-rotation/v1`",
        "## `events.jsonl` : colonnes",
        "`on_behalf_of` (pour le compte de qui",
        "`granted` = accordé",
    ] {
        assert!(readme.contains(text), "LISEZMOI.md lacks «{text}»");
    }
    let repo_schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/events");
    for entry in std::fs::read_dir(&repo_schemas).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let shipped = std::fs::read(bundle.join("schemas/events").join(&name)).unwrap();
        assert_eq!(shipped, std::fs::read(entry.path()).unwrap(), "{name}");
        assert!(
            readme.contains(&format!("`schemas/events/{name}`")),
            "{name} not described"
        );
    }
    let mut reports = 0;
    for entry in std::fs::read_dir(bundle.join("reports")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let header = std::fs::read_to_string(&path).unwrap();
        let section = readme
            .split(&format!("### `reports/{name}`"))
            .nth(1)
            .unwrap_or_else(|| panic!("reports/{name} not described"));
        let section = section.split("###").next().unwrap();
        for column in header.lines().next().unwrap().split(',') {
            assert!(
                section.contains(&format!("| `{column}` |")),
                "{name}: column {column} not described"
            );
        }
        reports += 1;
    }
    assert!(reports > 10);
    let out = ok(d, &["verify", "--bundle", "bundle"]);
    assert!(out.contains("bundle:        OK"), "{out}");

    if !tools_present() {
        eprintln!("skipping the checks by hand: jq, openssl, xxd or sha256sum is missing");
        return;
    }
    // Every command the LISEZMOI gives for a check without our program works as written.
    let blocks = sh_blocks(&readme);
    assert_eq!(blocks.len(), 6, "{blocks:?}");
    let mut said = String::new();
    for block in &blocks {
        let output = bash(&bundle, block);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{block}\n{text}");
        said += &text;
    }
    assert!(said.contains("OK : fichiers conformes"), "{said}");
    assert!(said.contains("OK : SHA256SUMS = manifeste"), "{said}");
    assert!(said.contains("OK : PEM = public-key.txt"), "{said}");
    assert_eq!(
        said.matches("Signature Verified Successfully").count(),
        2,
        "{said}"
    );
    assert!(
        said.contains("OK : le journal contient la tête signée"),
        "{said}"
    );
    // The hash of event 1 recomputed by hand is its stored hash.
    let by_hand = bash(&bundle, &blocks[3]);
    let lines: Vec<String> = String::from_utf8_lossy(&by_hand.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], lines[1]);
    assert_eq!(lines[0].len(), 64);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("MANIFEST.json")).unwrap())
            .unwrap();
    let head = manifest["head_hash"].as_str().unwrap();
    assert!(
        said.contains(&format!("dernière empreinte : {head} (manifeste : {head})")),
        "{said}"
    );

    // The same checks fail on an altered bundle.
    let report = bundle.join("reports/dossiers.csv");
    let text = std::fs::read_to_string(&report).unwrap();
    std::fs::write(&report, text.replacen("granted", "refused", 1)).unwrap();
    let checked = bash(&bundle, &blocks[0]);
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(!said.contains("OK : fichiers conformes"), "{said}");
    assert!(said.contains("reports/dossiers.csv: FAILED"), "{said}");
    let signed = bundle.join("checkpoint.json");
    let text = std::fs::read_to_string(&signed).unwrap();
    let forged = text.replacen("\"position\": ", "\"position\": 1", 1);
    std::fs::write(&signed, forged).unwrap();
    assert!(!bash(&bundle, &blocks[2]).status.success());
}
