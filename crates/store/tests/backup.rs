//! Backup and restore on both backends: the restored ledger verifies, ends with the same head,
//! keeps its tokens, snapshots, relay offsets and the names of its persons, and its log still
//! refuses UPDATE and DELETE.

use std::path::Path;

use chrono::NaiveDate;
use engagements_domain::porteur::{PorteurEvent, PorteurKind};
use engagements_domain::{Actor, Metadata, PorteurId, Source};
use engagements_store::backup::restore;
use engagements_store::testing::{self, TestDb};
use engagements_store::{AppendRequest, BackupError, ExpectedVersion, NewEvent, Store};

fn porteur_registered(index: usize) -> AppendRequest {
    let event = NewEvent::from_event(&PorteurEvent::PorteurRegistered {
        porteur_id: PorteurId::new(),
        name: format!("Association n° {index}"),
        kind: PorteurKind::Association,
        siret: None,
        rna: None,
    })
    .unwrap();
    AppendRequest::single(
        Metadata::new(
            Actor::new("Agent test", "cabbalr"),
            Source::Cli,
            NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
        ),
        "porteur",
        format!("porteur-{index}"),
        ExpectedVersion::NoStream,
        vec![event],
    )
}

/// A fresh, empty database of the same backend as `db`.
async fn fresh_like(db: &TestDb) -> TestDb {
    match db.backend {
        "sqlite" => testing::sqlite(),
        _ => testing::postgres()
            .await
            .expect("the server answered a moment ago"),
    }
}

/// A ledger of 1,500 events (more than one page of the logical export), a snapshot, a token and
/// a relay offset.
async fn filled(db: &TestDb) -> Store {
    let store = Store::open(&db.url).await.unwrap();
    for index in 0..1500 {
        store.append(porteur_registered(index)).await.unwrap();
    }
    store
        .save_snapshot("test", 1200, "{\"n\":1200}")
        .await
        .unwrap();
    store
        .create_token("Agent test", "cabbalr", "admin")
        .await
        .unwrap();
    store
        .acknowledge_relay_offset("amqp:test", 1000)
        .await
        .unwrap();
    store
}

/// Runs `statement` on the database at `url` and returns its error text.
async fn refused(url: &str, statement: &str) -> String {
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

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_an_empty_database_that_verifies_and_stays_append_only() {
    let dir = tempfile::tempdir().unwrap();
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let source = filled(&db).await;
        let head = source.head().await.unwrap().unwrap();
        let file = dir.path().join(format!("ledger-{}.backup", db.backend));
        let summary = source.backup(&file).await.unwrap();
        assert_eq!(summary.events, 1500);
        assert_eq!(summary.head_hash.as_deref(), Some(head.hash.as_str()));
        #[cfg(unix)]
        assert_eq!(mode(&file), 0o600, "the backup holds token hashes");
        // A backup never overwrites a file.
        let again = source.backup(&file).await;
        assert!(
            matches!(again, Err(BackupError::OutputExists(_))),
            "{again:?}"
        );
        source.shutdown().await;

        let target = fresh_like(&db).await;
        let restored = restore(&target.url, &file).await.unwrap();
        assert_eq!(restored, summary);

        let store = Store::open(&target.url).await.unwrap();
        let report = store.verify(|_| {}).await.unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.events, 1500);
        assert_eq!(report.head_hash, head.hash);
        assert_eq!(
            store.latest_snapshot("test", 1500).await.unwrap(),
            Some((1200, "{\"n\":1200}".to_string())),
            "the snapshot is restored and still bound to the chain"
        );
        assert_eq!(store.list_tokens().await.unwrap().len(), 1);
        assert_eq!(store.relay_offset("amqp:test").await.unwrap(), 1000);
        // The names behind the events' pseudonymous ids, outside the chain, come back too.
        let person = store.read_rows(1, 1).await.unwrap()[0].metadata.clone();
        let person: serde_json::Value = serde_json::from_str(&person).unwrap();
        let person = person["actor"]["person"].as_str().unwrap().to_string();
        assert!(person.starts_with("person-"), "{person}");
        let names = store
            .persons_by_id(std::slice::from_ref(&person))
            .await
            .unwrap();
        assert_eq!(names[&person].name.as_deref(), Some("Agent test"));
        assert_eq!(store.list_persons().await.unwrap().len(), 1);
        store.shutdown().await;

        // The functions and triggers came back with the rows.
        for statement in [
            "UPDATE events SET payload = payload WHERE position = 1",
            "DELETE FROM events WHERE position = 1500",
            "UPDATE snapshots SET payload = '{}'",
            "DELETE FROM snapshots",
        ] {
            let error = refused(&target.url, statement).await;
            assert!(
                error.contains("append-only") || error.contains("insert-only"),
                "{statement}: {error}"
            );
        }

        // A second restore into the now filled database is refused and changes nothing.
        let twice = restore(&target.url, &file).await;
        assert!(
            matches!(twice, Err(BackupError::TargetNotEmpty(_))),
            "{twice:?}"
        );
        let store = Store::open(&target.url).await.unwrap();
        assert_eq!(store.head().await.unwrap().unwrap().hash, head.hash);
        assert_eq!(store.verify(|_| {}).await.unwrap().events, 1500);
        store.shutdown().await;
    }
}

#[tokio::test]
async fn a_damaged_logical_backup_restores_nothing() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = Store::open(&db.url).await.unwrap();
    for index in 0..20 {
        source.append(porteur_registered(index)).await.unwrap();
    }
    let file = dir.path().join("ledger.backup");
    source.backup(&file).await.unwrap();
    source.shutdown().await;
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // Truncated: the closing line is missing.
    let truncated = dir.path().join("truncated.backup");
    std::fs::write(&truncated, lines[..lines.len() - 1].join("\n")).unwrap();
    // Tampered: one payload changed, hashes left as they were.
    let tampered = dir.path().join("tampered.backup");
    std::fs::write(
        &tampered,
        text.replacen("Association n° 7", "Association n° 8", 1),
    )
    .unwrap();

    for (file, expected) in [(&truncated, "truncated"), (&tampered, "position 8")] {
        let target = testing::postgres().await.unwrap();
        let error = restore(&target.url, file).await.expect_err("damaged");
        assert!(error.to_string().contains(expected), "{error}");
        let store = Store::open(&target.url).await.unwrap();
        assert_eq!(store.head().await.unwrap(), None, "nothing was restored");
        store.shutdown().await;
    }
}

#[tokio::test]
async fn an_sqlite_restore_refuses_an_existing_file_and_a_file_that_is_no_backup() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_backup = dir.path().join("notes.txt");
    std::fs::write(&not_a_backup, "rien à voir").unwrap();
    let target = testing::sqlite();
    let error = restore(&target.url, &not_a_backup)
        .await
        .expect_err("no backup");
    assert!(matches!(error, BackupError::NotABackup(_)), "{error}");

    let source_db = testing::sqlite();
    let source = Store::open(&source_db.url).await.unwrap();
    source.append(porteur_registered(1)).await.unwrap();
    let file = dir.path().join("ledger.db");
    source.backup(&file).await.unwrap();
    source.shutdown().await;
    // The source itself exists and holds a ledger: never overwritten.
    let error = restore(&source_db.url, &file).await.expect_err("exists");
    assert!(matches!(error, BackupError::TargetNotEmpty(_)), "{error}");
    // An SQLite copy does not go into PostgreSQL.
    if let Some(pg) = testing::postgres().await {
        let error = restore(&pg.url, &file).await.expect_err("other backend");
        assert!(matches!(error, BackupError::WrongBackend(_)), "{error}");
    }
}
