//! `engagements backup` and `engagements restore` through the binary, on both backends: the
//! restored ledger passes `verify`, ends with the same head, and its log refuses UPDATE and DELETE.

use std::path::Path;
use std::process::{Command, Output};

use engagements_store::testing::{self, TestDb};
use engagements_store::Store;

fn run(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_engagements"))
        .current_dir(dir)
        .env("ENGAGEMENTS_DB", db)
        .env("ENGAGEMENTS_KEY", dir.join("ledger.key"))
        .env_remove("ENGAGEMENTS_SNAPSHOTS")
        .env_remove("ENGAGEMENTS_SNAPSHOT_EVERY")
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, db: &str, args: &[&str]) -> String {
    let output = run(dir, db, args);
    assert!(
        output.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn head_hash(db: &str) -> String {
    let store = Store::open_existing(db).await.unwrap();
    let head = store.head().await.unwrap().expect("a non-empty log").hash;
    store.shutdown().await;
    head
}

async fn fresh_like(db: &TestDb) -> TestDb {
    match db.backend {
        "sqlite" => testing::sqlite(),
        _ => testing::postgres()
            .await
            .expect("the server answered a moment ago"),
    }
}

async fn refusal(url: &str, statement: &str) -> String {
    let outcome = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let outcome = sqlx::query(statement).execute(&pool).await.map(|_| ());
        pool.close().await;
        outcome
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let outcome = sqlx::query(statement).execute(&pool).await.map(|_| ());
        pool.close().await;
        outcome
    };
    outcome.expect_err(statement).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_restore_gives_a_ledger_that_verifies_with_the_same_head() {
    let dir = tempfile::tempdir().unwrap();
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        ok(dir.path(), &db.url, &["demo", "--dossiers-per-year", "4"]);
        ok(dir.path(), &db.url, &["verify"]);
        let head = head_hash(&db.url).await;

        let file = dir
            .path()
            .join(format!("engagements-{}.backup", db.backend));
        let file_arg = file.to_str().unwrap();
        let printed = ok(dir.path(), &db.url, &["backup", "--out", file_arg]);
        assert!(printed.contains(&head), "{printed}");
        // The same file twice: refused, the first backup kept.
        let size = std::fs::metadata(&file).unwrap().len();
        let again = run(dir.path(), &db.url, &["backup", "--out", file_arg]);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), size);

        let target = fresh_like(&db).await;
        let printed = ok(dir.path(), &target.url, &["restore", "--from", file_arg]);
        assert!(printed.contains(&head), "{printed}");
        let verified = ok(dir.path(), &target.url, &["verify"]);
        assert!(verified.contains(&head), "{verified}");
        assert_eq!(head_hash(&target.url).await, head);
        for statement in ["UPDATE events SET payload = payload", "DELETE FROM events"] {
            let error = refusal(&target.url, statement).await;
            assert!(error.contains("append-only"), "{statement}: {error}");
        }

        // A restore into a database that holds a ledger is refused and changes nothing.
        let refused = run(dir.path(), &db.url, &["restore", "--from", file_arg]);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("not empty"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
        assert_eq!(head_hash(&db.url).await, head);
    }
}
