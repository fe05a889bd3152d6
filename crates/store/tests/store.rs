//! The store on both backends: concurrency, idempotency, immutability, hash chain, esrs.

use std::collections::HashMap;

use chrono::NaiveDate;
use engagements_domain::porteur::{Porteur, PorteurCommand, PorteurEvent, PorteurKind};
use engagements_domain::{Actor, Metadata, PorteurId, Source};
use engagements_store::esrs_adapter::EsrsStore;
use engagements_store::testing::{self, TestDb};
use engagements_store::{AppendError, AppendRequest, ExpectedVersion, Limits, NewEvent, Store};
use sqlx::Connection;
use uuid::Uuid;

fn metadata() -> Metadata {
    Metadata::new(
        Actor::new("Agent test", "cabbalr"),
        Source::Cli,
        NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
    )
}

fn registered(porteur_id: PorteurId, name: &str) -> NewEvent {
    NewEvent::from_event(&PorteurEvent::PorteurRegistered {
        porteur_id,
        name: name.to_string(),
        kind: PorteurKind::Association,
        siret: None,
        rna: None,
    })
    .unwrap()
}

fn append_to(stream: &str, expected: ExpectedVersion, name: &str) -> AppendRequest {
    AppendRequest::single(
        metadata(),
        "porteur",
        stream,
        expected,
        vec![registered(PorteurId::new(), name)],
    )
}

async fn count(store: &Store) -> usize {
    store.read_all(1, i64::MAX).await.unwrap().len()
}

/// Runs `check` against a fresh database of each backend.
async fn on_each_backend<F, Fut>(check: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        check(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_are_gapless_and_contiguous() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        let tasks_count = 32;
        let appends_per_task = 20;
        let mut tasks = Vec::new();
        for task in 0..tasks_count {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..appends_per_task {
                    if task % 2 == 0 {
                        // Everyone fights over one stream: retry on conflict.
                        loop {
                            let version =
                                store.stream_version("shared").await.unwrap().unwrap_or(0);
                            let request = append_to(
                                "shared",
                                ExpectedVersion::from_version(version),
                                &format!("t{task} #{i}"),
                            );
                            match store.append(request).await {
                                Ok(_) => break,
                                Err(AppendError::Conflict { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    } else {
                        let stream = format!("own-{task}");
                        let request = append_to(
                            &stream,
                            ExpectedVersion::from_version(i),
                            &format!("t{task} #{i}"),
                        );
                        store.append(request).await.unwrap();
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let events = store.read_all(1, i64::MAX).await.unwrap();
        assert_eq!(events.len(), (tasks_count * appends_per_task) as usize);
        let mut versions: HashMap<String, i64> = HashMap::new();
        for (index, event) in events.iter().enumerate() {
            assert_eq!(event.position, index as i64 + 1, "positions are gapless");
            let version = versions.entry(event.stream_id.clone()).or_default();
            *version += 1;
            assert_eq!(event.version, *version, "versions are contiguous");
        }
        assert_eq!(versions["shared"], 16 * appends_per_task);
        let report = store.verify(|_| {}).await.unwrap();
        assert!(report.is_ok(), "{:?}", report.problem);
        assert_eq!(report.events, 640);
        store.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn same_command_id_records_once_and_returns_the_first_result() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        let request = append_to(
            "p1",
            ExpectedVersion::NoStream,
            "Les Petits Débrouillards (fictif)",
        );
        let first = store.append(request.clone()).await.unwrap();
        assert!(!first.duplicate);
        let again = store.append(request).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.events[0].position, first.events[0].position);
        assert_eq!(again.events[0].hash, first.events[0].hash);
        assert_eq!(count(&store).await, 1);
        store.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_conflict_is_typed_and_changes_nothing() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        store
            .append(append_to("p1", ExpectedVersion::NoStream, "A"))
            .await
            .unwrap();
        let error = store
            .append(append_to("p1", ExpectedVersion::NoStream, "B"))
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AppendError::Conflict {
                actual: Some(1),
                ..
            }
        ));
        let error = store
            .append(append_to("p2", ExpectedVersion::Exact(3), "C"))
            .await
            .unwrap_err();
        assert!(matches!(error, AppendError::Conflict { actual: None, .. }));
        assert_eq!(count(&store).await, 1);
        store.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conflicting_command_does_not_fail_its_batch() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        store
            .append(append_to("taken", ExpectedVersion::NoStream, "first"))
            .await
            .unwrap();
        // Sent together, these land in the same batch or in neighbouring ones.
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let stream = if i == 30 {
                    "taken".to_string()
                } else {
                    format!("s{i}")
                };
                store
                    .append(append_to(&stream, ExpectedVersion::NoStream, "x"))
                    .await
            }));
        }
        let mut accepted = 0;
        let mut conflicts = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(AppendError::Conflict { .. }) => conflicts += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((accepted, conflicts), (63, 1));
        assert_eq!(count(&store).await, 64);
        assert!(store.verify(|_| {}).await.unwrap().is_ok());
        store.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn limits_are_errors_not_truncations() {
    let db = testing::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    let empty = AppendRequest::single(metadata(), "porteur", "p", ExpectedVersion::Any, vec![]);
    assert!(matches!(store.append(empty).await, Err(AppendError::Empty)));
    let huge_name = "x".repeat(300 * 1024);
    let huge = append_to("p", ExpectedVersion::Any, &huge_name);
    assert!(matches!(
        store.append(huge).await,
        Err(AppendError::LimitExceeded(_))
    ));
    assert_eq!(count(&store).await, 0);
    store.shutdown().await;
}

/// Opens a raw connection beside the store, for what a user of the database could try.
async fn raw_execute(db: &TestDb, sql: &str) -> Result<u64, sqlx::Error> {
    if db.backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await?;
        Ok(sqlx::query(sql).execute(&mut c).await?.rows_affected())
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await?;
        Ok(sqlx::query(sql).execute(&mut c).await?.rows_affected())
    }
}

#[tokio::test]
async fn update_and_delete_are_refused_by_the_database() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        store
            .append(append_to("p1", ExpectedVersion::NoStream, "A"))
            .await
            .unwrap();
        let before = store.read_rows(1, 10).await.unwrap();
        for sql in [
            "UPDATE events SET payload = '{}' WHERE position = 1",
            "DELETE FROM events WHERE position = 1",
        ] {
            let error = raw_execute(&db, sql).await.unwrap_err();
            assert!(error.to_string().contains("append-only"), "{error}");
        }
        if db.backend == "postgres" {
            assert!(raw_execute(&db, "TRUNCATE events").await.is_err());
        }
        assert_eq!(store.read_rows(1, 10).await.unwrap(), before);
        store.shutdown().await;
    })
    .await;
}

/// Runs `sql` on the log with its refusal of updates out of the way, as someone with the
/// database's owner rights could.
async fn tamper_with(db: &TestDb, sql: &str) {
    if db.backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query("DROP TRIGGER IF EXISTS events_refuse_update")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query("ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

#[tokio::test]
async fn verify_names_the_first_altered_position() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        for i in 0..10 {
            store
                .append(append_to(&format!("p{i}"), ExpectedVersion::NoStream, "Association"))
                .await
                .unwrap();
        }
        let report = store.verify(|_| {}).await.unwrap();
        assert!(report.is_ok());
        assert_eq!((report.events, report.position_last), (10, 10));

        // Alter one byte of position 6's payload, with the trigger out of the way.
        let tamper = "UPDATE events SET payload = REPLACE(payload, 'Association', 'Associatiom') WHERE position = 6";
        tamper_with(&db, tamper).await;
        let report = store.verify(|_| {}).await.unwrap();
        let problem = report.problem.expect("tampering is detected");
        assert_eq!(problem.position, 6);
        assert!(problem.what.contains("hash mismatch"), "{}", problem.what);
        store.shutdown().await;
    })
    .await;
}

/// A walk carried on reads only what was appended since, reports on the whole chain, and sees
/// the last event it verified altered; what it cannot see (an earlier rewrite) a full walk sees.
#[tokio::test]
async fn a_walk_carried_on_checks_what_was_appended_and_its_last_event() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        let append = |i: usize| append_to(&format!("w{i}"), ExpectedVersion::NoStream, "Association");
        for i in 0..5 {
            store.append(append(i)).await.unwrap();
        }
        let mut walk = engagements_store::Walk::default();
        let mut pages = 0;
        let report = walk.extend(&store, |_| pages += 1).await.unwrap();
        assert!(report.is_ok());
        assert_eq!((report.events, report.position_last), (5, 5));
        for i in 5..8 {
            store.append(append(i)).await.unwrap();
        }
        let report = walk.extend(&store, |_| {}).await.unwrap();
        assert!(report.is_ok());
        assert_eq!((report.events, report.position_last), (8, 8));
        assert_eq!(report.head_hash, store.verify(|_| {}).await.unwrap().head_hash);

        // The last event verified, altered: the next carry-on says so.
        let tamper = "UPDATE events SET payload = REPLACE(payload, 'Association', 'Associatiom') WHERE position = 8";
        tamper_with(&db, tamper).await;
        store.append(append(8)).await.unwrap();
        let report = walk.extend(&store, |_| {}).await.unwrap();
        let problem = report.problem.expect("the altered event is seen");
        assert_eq!(problem.position, 8);
        // And it stays said, whatever is appended next.
        store.append(append(9)).await.unwrap();
        assert!(walk.extend(&store, |_| {}).await.unwrap().problem.is_some());
        let full = store.verify(|_| {}).await.unwrap();
        assert_eq!(full.problem.map(|p| p.position), Some(8));
        store.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn read_stream_up_to_a_version_and_subscribe() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        let mut subscription = store.subscribe(1);
        for i in 0..3 {
            store
                .append(append_to("p", ExpectedVersion::from_version(i), "A"))
                .await
                .unwrap();
        }
        assert_eq!(store.read_stream("p", Some(2)).await.unwrap().len(), 2);
        assert!(store.read_existing_stream("nope").await.is_err());
        let batch = subscription.next_batch(100).await.unwrap();
        assert_eq!(batch.len(), 3);
        let follower = tokio::spawn(async move { subscription.next_batch(100).await.unwrap() });
        store
            .append(append_to("q", ExpectedVersion::NoStream, "B"))
            .await
            .unwrap();
        let next = follower.await.unwrap();
        assert_eq!(next[0].position, 4);
        store.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn esrs_aggregate_manager_works_on_the_store() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        let manager = esrs::manager::AggregateManager::new(EsrsStore::<Porteur>::new(
            store.clone(),
            Actor::new("Agent test", "cabbalr"),
            Source::Cli,
        ));
        let porteur_id = PorteurId::new();
        let state = esrs::AggregateState::with_id(porteur_id.0);
        manager
            .handle_command(
                state,
                PorteurCommand::Register {
                    porteur_id,
                    name: "Centre social Vivre Ensemble (fictif)".into(),
                    kind: PorteurKind::Association,
                    siret: None,
                    rna: None,
                },
            )
            .await
            .unwrap()
            .unwrap();
        let loaded = manager.load(porteur_id.0).await.unwrap().unwrap();
        assert_eq!(*loaded.sequence_number(), 1);
        manager
            .handle_command(
                loaded,
                PorteurCommand::SignContratEngagementRepublicain {
                    porteur_id,
                    signed_on: NaiveDate::from_ymd_opt(2025, 1, 15).unwrap(),
                },
            )
            .await
            .unwrap()
            .unwrap();
        // A stale state (version 0) conflicts instead of overwriting.
        let stale = esrs::AggregateState::with_id(porteur_id.0);
        let refused = manager
            .handle_command(
                stale,
                PorteurCommand::Register {
                    porteur_id,
                    name: "Doublon".into(),
                    kind: PorteurKind::Association,
                    siret: None,
                    rna: None,
                },
            )
            .await;
        assert!(refused.is_err());
        assert!(manager.delete(porteur_id.0).await.is_err());
        let events = store
            .read_stream(&porteur_id.stream_id(), None)
            .await
            .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].event_type, "ContratEngagementRepublicainSigned");
        let _ = Uuid::nil();
        store.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_group_is_recorded_all_or_nothing() {
    on_each_backend(|db| async move {
        let store = Store::open(&db.url).await.unwrap();
        store
            .append(append_to("taken", ExpectedVersion::NoStream, "first"))
            .await
            .unwrap();
        let refused = store
            .append_group(vec![
                append_to("a", ExpectedVersion::NoStream, "a"),
                append_to("taken", ExpectedVersion::NoStream, "clash"),
                append_to("b", ExpectedVersion::NoStream, "b"),
            ])
            .await;
        assert!(matches!(refused, Err(AppendError::Conflict { .. })));
        assert_eq!(count(&store).await, 1);
        let accepted = store
            .append_group(vec![
                append_to("a", ExpectedVersion::NoStream, "a"),
                append_to("a", ExpectedVersion::Exact(1), "a again"),
            ])
            .await
            .unwrap();
        assert_eq!(accepted.len(), 2);
        assert_eq!(accepted[1].events[0].version, 2);
        assert_eq!(count(&store).await, 3);
        assert!(store.verify(|_| {}).await.unwrap().is_ok());
        store.shutdown().await;
    })
    .await;
}

/// A pipelined writer knows the versions of the streams it wrote while it holds the chain's
/// lease; once another writer has had the lease, it must look them up again.
#[tokio::test]
async fn a_writer_forgets_stream_versions_when_it_gives_the_lease_back() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let a = Store::open(&db.url).await.unwrap();
    let b = Store::open(&db.url).await.unwrap();
    // Longer than a lease's idle turn: the writer that just wrote gives the lease back.
    let idle = std::time::Duration::from_millis(150);
    let expected = |version| ExpectedVersion::from_version(version);
    a.append(append_to("s", expected(0), "a #0")).await.unwrap();
    a.append(append_to("s", expected(1), "a #1")).await.unwrap();
    tokio::time::sleep(idle).await;
    b.append(append_to("s", expected(2), "b #2")).await.unwrap();
    tokio::time::sleep(idle).await;
    a.append(append_to("s", expected(3), "a #3"))
        .await
        .expect("the version written by the other writer is seen");
    let stale = a
        .append(append_to("s", expected(3), "a #3 again, stale"))
        .await;
    assert!(
        matches!(
            stale,
            Err(AppendError::Conflict {
                actual: Some(4),
                ..
            })
        ),
        "{stale:?}"
    );
    let report = a.verify(|_| {}).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    a.shutdown().await;
    b.shutdown().await;
}

/// Three writers on one PostgreSQL chain at once, as three processes have: two pipelined (each
/// under the chain's lease in turn) and one with the serial, locked transaction. Each command is
/// also sent twice at the same moment (a client retrying while its first try is in flight).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_of_several_processes_share_one_chain() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let serial = Limits {
        pipeline: false,
        ..Limits::default()
    };
    let stores = vec![
        Store::open(&db.url).await.unwrap(),
        Store::open(&db.url).await.unwrap(),
        Store::open_with(&db.url, serial).await.unwrap(),
    ];
    let per_client = 40;
    let mut tasks = Vec::new();
    for (writer, store) in stores.iter().enumerate() {
        for client in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let stream = format!("w{writer}-c{client}");
                for i in 0..per_client {
                    let request = append_to(
                        &stream,
                        ExpectedVersion::from_version(i),
                        &format!("{stream} #{i}"),
                    );
                    let (first, retry) =
                        tokio::join!(store.append(request.clone()), store.append(request));
                    let (first, retry) = (first.unwrap(), retry.unwrap());
                    let hashes = |a: &engagements_store::Appended| {
                        a.events.iter().map(|e| e.hash.clone()).collect::<Vec<_>>()
                    };
                    assert_eq!(
                        hashes(&first),
                        hashes(&retry),
                        "the retry returns the first result"
                    );
                    assert!(
                        first.duplicate != retry.duplicate,
                        "exactly one is a duplicate"
                    );
                    // And one stream that every client of every writer fights over.
                    loop {
                        let version = store.stream_version("shared").await.unwrap().unwrap_or(0);
                        let request = append_to(
                            "shared",
                            ExpectedVersion::from_version(version),
                            &format!("{stream} shared #{i}"),
                        );
                        match store.append(request).await {
                            Ok(_) => break,
                            Err(AppendError::Conflict { .. }) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let reader = &stores[0];
    let events = reader.read_all(1, i64::MAX).await.unwrap();
    assert_eq!(
        events.len(),
        2 * 3 * 8 * per_client as usize,
        "each command once"
    );
    let mut writers_seen = std::collections::HashSet::new();
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.position, index as i64 + 1, "positions are gapless");
        if event.stream_id != "shared" {
            writers_seen.insert(event.stream_id[..2].to_string());
        }
    }
    assert_eq!(writers_seen.len(), 3, "every writer wrote");
    let report = reader.verify(|_| {}).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    for store in &stores {
        store.shutdown().await;
    }
}
