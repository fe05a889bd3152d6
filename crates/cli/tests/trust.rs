//! What an auditor with database access must not be able to do, through the binary: change a
//! figure with a snapshot, rewrite the chain past a recorded checkpoint, pass a checkpoint off
//! without a trusted key; and read commands that create or change nothing.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use engagements_app::snapshots::{fold_log, Mark, SnapshotPolicy, Snapshots, SNAPSHOT_NAME};
use engagements_store::testing::{self, TestDb};
use engagements_store::Store;
use sqlx::Connection;

const FORGED_NAME: &str = "Association fictive (snapshot)";

fn run(dir: &Path, db: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_engagements"));
    command
        .current_dir(dir)
        .env("ENGAGEMENTS_DB", db)
        .env("ENGAGEMENTS_KEY", dir.join("ledger.key"))
        .env_remove("ENGAGEMENTS_SNAPSHOTS")
        .env_remove("ENGAGEMENTS_SNAPSHOT_EVERY")
        .args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn ok(dir: &Path, db: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = run(dir, db, args, env);
    assert!(output.status.success(), "{args:?}: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A small demo ledger recorded through the binary.
fn demo(dir: &Path, db: &str) {
    ok(dir, db, &["demo", "--dossiers-per-year", "4"], &[]);
}

/// Saves a doctored fold of the whole log as a snapshot at the head, bound to the chain as the
/// store binds any snapshot (what someone with write access and this program's code can do).
async fn plant_doctored_snapshot(db: &str) -> i64 {
    let store = Store::open_existing(db).await.unwrap();
    let mut doctored = fold_log(&store, None).await.unwrap();
    let ids: Vec<_> = doctored.porteurs.by_id.keys().copied().collect();
    for id in ids {
        doctored.porteurs.by_id.get_mut(&id).unwrap().name = FORGED_NAME.into();
    }
    let mut mark = Mark::default();
    let mut from = 1;
    loop {
        let page = store.read_all(from, 10_000).await.unwrap();
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        mark = page.iter().fold(mark, |m, e| m.after(e));
    }
    Snapshots::new(store.clone(), SnapshotPolicy::NEVER)
        .save(mark, Arc::new(doctored))
        .await
        .unwrap();
    store.shutdown().await;
    mark.position
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn sqlite_in(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("l.db").display())
}

#[tokio::test]
async fn a_doctored_snapshot_is_named_by_verify_and_never_reaches_the_switch_or_the_bundle() {
    let dir = temp_dir();
    let d = dir.path();
    let db = sqlite_in(d);
    demo(d, &db);
    let report = ["report", "porteur", "--format", "csv"];
    assert!(!ok(d, &db, &report, &[]).contains(FORGED_NAME));
    let position = plant_doctored_snapshot(&db).await;
    // Reads may start from a snapshot whose binding holds...
    assert!(ok(d, &db, &report, &[]).contains(FORGED_NAME));
    // ...never with the switch, in any of its forms.
    for (args, env) in [
        (vec!["--no-snapshots"], vec![]),
        (vec![], vec![("ENGAGEMENTS_SNAPSHOTS", "off")]),
        (vec![], vec![("ENGAGEMENTS_SNAPSHOT_EVERY", "0")]),
    ] {
        let args: Vec<&str> = args.into_iter().chain(report).collect();
        let out = ok(d, &db, &args, &env);
        assert!(!out.contains(FORGED_NAME), "{args:?} {env:?}: {out}");
    }
    // verify re-folds the log and names the snapshot.
    let output = run(d, &db, &["verify"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let expected = format!(
        "snapshot {SNAPSHOT_NAME} at position {position} does not match the events: forged or from other code"
    );
    assert!(text(&output).contains(&expected), "{}", text(&output));
    // The bundle's reports are folded from position 1.
    ok(
        d,
        &db,
        &[
            "export",
            "audit",
            "--unsigned",
            "--out",
            "bundle",
            "--referential",
            "/nonexistent",
        ],
        &[],
    );
    let mut reports = 0;
    for entry in std::fs::read_dir(d.join("bundle/reports")).unwrap() {
        let content = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!content.contains(FORGED_NAME));
        reports += 1;
    }
    assert!(reports > 5, "{reports} reports");
}

/// Rewrites the event at `from` and every hash after it, in SQL (the log's
/// triggers dropped first): the chain is consistent again.
async fn rewrite_consistently(db: &str, from: i64) {
    let store = Store::open_existing(db).await.unwrap();
    let mut rows = store.read_rows(1, 100_000).await.unwrap();
    store.shutdown().await;
    let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
    for sql in [
        "DROP TRIGGER events_refuse_update",
        "DROP TRIGGER events_refuse_delete",
    ] {
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
    let from = from as usize - 1;
    // Another command id: hashed like every column, and read by no projection.
    rows[from].command_id = uuid::Uuid::now_v7().to_string();
    for i in from..rows.len() {
        rows[i].prev_hash = rows[i - 1].hash.clone();
        rows[i].hash = engagements_store::hash::event_hash(&rows[i]);
        sqlx::query("UPDATE events SET command_id = ?, prev_hash = ?, hash = ? WHERE position = ?")
            .bind(&rows[i].command_id)
            .bind(&rows[i].prev_hash)
            .bind(&rows[i].hash)
            .bind(rows[i].position)
            .execute(&mut c)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn verify_checks_the_checkpoints_recorded_in_the_log() {
    let dir = temp_dir();
    let d = dir.path();
    let db = sqlite_in(d);
    ok(d, &db, &["init"], &[]);
    let out = ok(d, &db, &["keys", "init"], &[]);
    assert!(out.contains("recorded in the ledger"), "{out}");
    ok(d, &db, &["checkpoint", "--out", "kept.json"], &[]);
    let out = ok(d, &db, &["verify"], &[]);
    assert!(
        out.contains("recorded:      1 checkpoints, 1 hold"),
        "{out}"
    );
    let head = Store::open_existing(&db)
        .await
        .unwrap()
        .head()
        .await
        .unwrap()
        .unwrap()
        .position;
    // The checkpoint event is the head; it covers the event before it.
    rewrite_consistently(&db, head / 2).await;
    let output = run(d, &db, &["verify"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let all = text(&output);
    assert!(all.contains("chain:         OK"), "{all}");
    assert!(
        all.contains(&format!(
            "the checkpoint recorded at position {head} over position {}",
            head - 1
        )) && all.contains("history was rewritten"),
        "{all}"
    );
    let output = run(d, &db, &["checkpoint", "--out", "again.json"], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("refusing to sign"),
        "{}",
        text(&output)
    );
    assert!(!d.join("again.json").exists());
}

#[test]
fn a_kept_checkpoint_without_a_trusted_key_is_not_called_authentic() {
    let dir = temp_dir();
    let d = dir.path();
    let db = sqlite_in(d);
    ok(d, &db, &["init"], &[]);
    ok(d, &db, &["keys", "init"], &[]);
    ok(d, &db, &["keys", "public", "--out", "ledger.pub"], &[]);
    ok(d, &db, &["checkpoint", "--out", "kept.json"], &[]);
    let output = run(d, &db, &["verify", "--checkpoint", "kept.json"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("authenticity:  NOT CHECKED"),
        "{}",
        text(&output)
    );
    let out = ok(
        d,
        &db,
        &["verify", "--checkpoint", "kept.json", "--allow-untrusted"],
        &[],
    );
    assert!(out.contains("authenticity:  NOT CHECKED"), "{out}");
    let out = ok(
        d,
        &db,
        &[
            "verify",
            "--checkpoint",
            "kept.json",
            "--public-key",
            "ledger.pub",
        ],
        &[],
    );
    assert!(!out.contains("NOT CHECKED"), "{out}");
}

#[test]
fn no_read_command_creates_a_ledger() {
    let dir = temp_dir();
    let d = dir.path();
    let typo = d.join("typo.db");
    let db = format!("sqlite://{}", typo.display());
    for args in [
        vec!["verify"],
        vec!["report", "signatory"],
        vec!["history", "checkpoints"],
        vec!["findings"],
        vec!["referential"],
        vec!["export", "audit", "--unsigned", "--out", "bundle"],
        vec!["checkpoint"],
    ] {
        if args == ["checkpoint"] {
            // A key, so that only the missing ledger can stop the checkpoint; made without one.
            let out = ok(d, &db, &["keys", "init"], &[]);
            assert!(out.contains("not recorded in a ledger"), "{out}");
        }
        let output = run(d, &db, &args, &[]);
        assert_ne!(output.status.code(), Some(0), "{args:?}");
        assert!(
            text(&output).contains("no ledger at"),
            "{args:?}: {}",
            text(&output)
        );
        assert!(!typo.exists(), "{args:?} created the database");
    }
}

#[tokio::test]
async fn an_empty_log_is_reported_and_fails_verify() {
    for db in testing::all().await {
        let dir = temp_dir();
        Store::open(&db.url).await.unwrap().shutdown().await;
        let output = run(dir.path(), &db.url, &["verify"], &[]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        assert!(text(&output).contains("has no event"), "{}", text(&output));
    }
}

#[tokio::test]
async fn a_postgres_schema_without_a_ledger_is_not_one_and_stays_empty() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let dir = temp_dir();
    let output = run(dir.path(), &db.url, &["verify"], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("no ledger at"), "{}", text(&output));
    assert!(table_counts(&db).await.is_empty());
}

/// Every table of the database (the test schema on PostgreSQL) with its row count.
async fn table_counts(db: &TestDb) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    if db.backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let names: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&mut c)
                .await
                .unwrap();
        for (name,) in names {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM \"{name}\""))
                .fetch_one(&mut c)
                .await
                .unwrap();
            counts.push((name, n));
        }
        // Closed before returning: a connection still closing could touch the file's WAL.
        c.close().await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::TEXT FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (name,) in names {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM \"{name}\""))
                .fetch_one(&mut c)
                .await
                .unwrap();
            counts.push((name, n));
        }
    }
    counts
}

/// The bytes of the SQLite file and of its WAL, if any.
fn sqlite_bytes(dir: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    (
        std::fs::read(dir.join("l.db")).unwrap(),
        std::fs::read(dir.join("l.db-wal")).ok(),
    )
}

#[tokio::test]
async fn read_commands_write_nothing() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let dir = temp_dir();
        let d = dir.path();
        let url = if db.backend == "sqlite" {
            sqlite_in(d)
        } else {
            db.url.clone()
        };
        let db = TestDb {
            backend: db.backend,
            url: url.clone(),
        };
        demo(d, &url);
        let store = Store::open_existing(&url).await.unwrap();
        let dossier = store
            .read_all(1, 100_000)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.stream_id.starts_with("dossier-"))
            .unwrap()
            .stream_id;
        store.shutdown().await;
        let counts = table_counts(&db).await;
        assert!(counts.iter().any(|(name, n)| name == "events" && *n > 100));
        let bytes = (db.backend == "sqlite").then(|| sqlite_bytes(d));
        // Snapshots every 50 events would be due all along the log: none may be saved.
        let every = [("ENGAGEMENTS_SNAPSHOT_EVERY", "50")];
        for args in [
            vec!["report", "signatory"],
            vec!["report", "dossiers", "--at-position", "300"],
            vec!["history", dossier.as_str()],
            vec!["findings"],
            vec!["verify"],
            vec!["referential"],
        ] {
            ok(d, &url, &args, &every);
            assert_eq!(
                table_counts(&db).await,
                counts,
                "{args:?} on {}",
                db.backend
            );
            if let Some(bytes) = &bytes {
                assert!(sqlite_bytes(d) == *bytes, "{args:?} changed the file");
            }
        }
    }
}

#[test]
fn export_audit_records_the_checkpoint_it_signs() {
    let dir = temp_dir();
    let d = dir.path();
    let db = sqlite_in(d);
    ok(d, &db, &["init"], &[]);
    ok(d, &db, &["keys", "init"], &[]);
    ok(d, &db, &["keys", "public", "--out", "ledger.pub"], &[]);
    let out = ok(
        d,
        &db,
        &[
            "export",
            "audit",
            "--out",
            "bundle",
            "--referential",
            "/nonexistent",
        ],
        &[],
    );
    assert!(out.contains("is recorded in the log"), "{out}");
    let signed = std::fs::read_to_string(d.join("bundle/checkpoint.json")).unwrap();
    let history = ok(d, &db, &["history", "checkpoints", "--format", "json"], &[]);
    let signed: serde_json::Value = serde_json::from_str(&signed).unwrap();
    let described = format!(
        "point de contrôle signé sur l'événement n° {} (empreinte {})",
        signed["position"],
        signed["head_hash"].as_str().unwrap()
    );
    assert!(history.contains(&described), "{described}: {history}");
    let out = ok(d, &db, &["verify"], &[]);
    assert!(
        out.contains("recorded:      1 checkpoints, 1 hold"),
        "{out}"
    );
    let out = ok(
        d,
        &db,
        &["verify", "--bundle", "bundle", "--public-key", "ledger.pub"],
        &[],
    );
    assert!(out.contains("bundle:        OK"), "{out}");
}
