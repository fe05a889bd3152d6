//! Routine checkpoints, on both backends: `serve` signs the head every N events and publishes
//! each checkpoint to a file; `verify --checkpoints FILE` proves the log still extends every
//! published one, which exposes a truncated tail that the database alone no longer shows.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use engagements_store::testing::{self, TestDb};
use engagements_store::Store;
use sqlx::Connection;

fn engagements(dir: &Path, db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_engagements"));
    command
        .current_dir(dir)
        .env("ENGAGEMENTS_DB", db)
        .env("ENGAGEMENTS_KEY", dir.join("ledger.key"))
        .env_remove("ENGAGEMENTS_CHECKPOINT_EVERY_EVENTS")
        .env_remove("ENGAGEMENTS_CHECKPOINT_EVERY_MINUTES")
        .env_remove("ENGAGEMENTS_CHECKPOINT_PUBLISH");
    command
}

fn run(dir: &Path, db: &str, args: &[&str]) -> Output {
    engagements(dir, db).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn ok(dir: &Path, db: &str, args: &[&str]) -> String {
    let output = run(dir, db, args);
    assert!(output.status.success(), "{args:?}: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `engagements serve` on a free port; killed when dropped.
struct Served(Child);

impl Served {
    fn start(dir: &Path, db: &str, options: &[&str]) -> Served {
        let mut child = engagements(dir, db)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(options)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("serve stopped").unwrap();
            if line.contains("on http://") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Served(child)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines of the published file once it has at least `count` (waits up to two minutes: the
/// server polls the head every two seconds; no timing is asserted).
fn published_lines(path: &Path, count: usize) -> Vec<serde_json::Value> {
    let started = Instant::now();
    loop {
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        if lines.len() >= count {
            return lines;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{count} checkpoints expected in {}, found {}",
            path.display(),
            lines.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Three porteurs, as a commands file.
fn porteurs_file(dir: &Path) -> String {
    let path = dir.join("porteurs.jsonl");
    let lines: Vec<String> = (0..3)
        .map(|i| {
            format!(
                r#"{{"command":"register_porteur","porteur_id":"{}","name":"Association fictive {i}","kind":"association"}}"#,
                uuid::Uuid::now_v7()
            )
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

async fn head(db: &str) -> i64 {
    let store = Store::open_existing(db).await.unwrap();
    let head = store.head().await.unwrap().unwrap().position;
    store.shutdown().await;
    head
}

/// Deletes the events from `from` on, in SQL, the log's protection removed first: what someone
/// with the database's owner rights can do to hide the last facts.
async fn truncate_from(db: &TestDb, from: i64) {
    if db.backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query("DROP TRIGGER events_refuse_delete")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("DELETE FROM events WHERE position >= ?")
            .bind(from)
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query("ALTER TABLE events DISABLE TRIGGER USER")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("DELETE FROM events WHERE position >= $1")
            .bind(from)
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
}

#[tokio::test]
async fn serve_signs_routine_checkpoints_and_verify_holds_the_log_to_the_published_ones() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let url = db.url.as_str();
        ok(d, url, &["init"]);
        ok(d, url, &["keys", "init"]);
        ok(d, url, &["keys", "public", "--out", "ledger.pub"]);
        let published = d.join("published.jsonl");
        let first_head = head(url).await;
        let served = Served::start(
            d,
            url,
            &[
                "--checkpoint-every-events",
                "3",
                "--checkpoint-every-minutes",
                "0",
                "--checkpoint-publish",
                published.to_str().unwrap(),
            ],
        );
        // No checkpoint yet: the first one is signed at once, over the head.
        let lines = published_lines(&published, 1);
        assert_eq!(lines[0]["position"], first_head, "{lines:?}");
        // Three events recorded by another process make the next one due.
        ok(d, url, &["apply", &porteurs_file(d)]);
        let lines = published_lines(&published, 2);
        let second = lines[1]["position"].as_i64().unwrap();
        // The first checkpoint's own record (1 event) and the three porteurs.
        assert_eq!(second, first_head + 4, "{lines:?}");
        drop(served);

        let out = ok(
            d,
            url,
            &[
                "verify",
                "--checkpoints",
                "published.jsonl",
                "--public-key",
                "ledger.pub",
            ],
        );
        assert!(
            out.contains("published:     2 of 2 checkpoints in published.jsonl hold"),
            "{out}"
        );
        assert!(
            out.contains("recorded:      2 checkpoints, 2 hold"),
            "{out}"
        );
        // The last recorded checkpoint covers `second`; its own record follows it.
        assert!(
            out.contains(&format!(
                "the last one covers position {second}, signed {} (1 events and",
                lines[1]["signed_at"].as_str().unwrap()
            )),
            "{out}"
        );

        // Hide the last porteur and the checkpoint recorded over it: the database alone no
        // longer knows the tail was there...
        truncate_from(&db, second).await;
        let out = ok(d, url, &["verify"]);
        assert!(
            out.contains("recorded:      1 checkpoints, 1 hold"),
            "{out}"
        );
        // ...the published file does.
        let output = run(
            d,
            url,
            &[
                "verify",
                "--checkpoints",
                "published.jsonl",
                "--public-key",
                "ledger.pub",
            ],
        );
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        let all = text(&output);
        assert!(
            all.contains(&format!(
                "checkpoint:    FAILED at position {second} (published.jsonl line 2)"
            )) && all.contains("events were removed"),
            "{all}"
        );
        assert!(
            all.contains("published:     1 of 2 checkpoints in published.jsonl hold"),
            "{all}"
        );
    }
}

#[test]
fn checkpoint_publish_appends_a_line_and_serve_without_a_key_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite://{}", d.join("l.db").display());
    ok(d, &db, &["init"]);
    // No key: serve runs, signs nothing, and says why.
    let mut child = engagements(d, &db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    loop {
        let line = lines.next().expect("serve stopped").unwrap();
        said.push(line.clone());
        if line.contains("on http://") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        said.iter()
            .any(|l| l.contains("no routine checkpoint is signed")),
        "{said:?}"
    );

    ok(d, &db, &["keys", "init"]);
    ok(d, &db, &["keys", "public", "--out", "ledger.pub"]);
    for _ in 0..2 {
        let out = ok(d, &db, &["checkpoint", "--publish", "heads.jsonl"]);
        assert!(out.contains("appended to heads.jsonl"), "{out}");
    }
    // --publish alone writes no checkpoint-N.json.
    let written: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("checkpoint-"))
        .collect();
    assert!(written.is_empty());
    let heads = std::fs::read_to_string(d.join("heads.jsonl")).unwrap();
    assert_eq!(heads.lines().count(), 2, "{heads}");
    let out = ok(
        d,
        &db,
        &[
            "verify",
            "--checkpoints",
            "heads.jsonl",
            "--public-key",
            "ledger.pub",
        ],
    );
    assert!(
        out.contains("published:     2 of 2 checkpoints in heads.jsonl hold"),
        "{out}"
    );
    // A published line signed by another key is refused with the trusted one.
    let other = tempfile::tempdir().unwrap();
    let other_db = format!("sqlite://{}", other.path().join("l.db").display());
    ok(other.path(), &other_db, &["init"]);
    ok(other.path(), &other_db, &["keys", "init"]);
    ok(
        other.path(),
        &other_db,
        &[
            "checkpoint",
            "--publish",
            d.join("heads.jsonl").to_str().unwrap(),
        ],
    );
    let output = run(
        d,
        &db,
        &[
            "verify",
            "--checkpoints",
            "heads.jsonl",
            "--public-key",
            "ledger.pub",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("not by the trusted key"),
        "{}",
        text(&output)
    );
}
