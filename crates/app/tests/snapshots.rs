//! Projection snapshots, on both backends: as-of answers started from snapshots equal the fold
//! of the whole log, for many positions, record times and effective dates; opening the ledger
//! starts from the latest snapshot and folds the rest as a fold from scratch would; snapshots of
//! another format, unreadable or out of place are ignored. The ledger is the fictitious demo.

use chrono::{Days, NaiveDate};
use engagements_app::demo::{self, DemoConfig};
use engagements_app::snapshots::{
    encode, Mark, SnapshotPolicy, Snapshots, MARK_NAME, SNAPSHOT_NAME,
};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, RecordedEvent, Source};
use engagements_projections::{AsOf, Projections};
use engagements_store::testing;
use engagements_store::Store;

/// Small enough to run in seconds, varied enough to touch every subsidy stream over two years.
fn demo_config() -> DemoConfig {
    DemoConfig {
        seed: 7,
        first_year: 2024,
        years: 2,
        dossiers_per_year: 25,
        porteurs: 10,
        cpos_per_year: 1,
    }
}

fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Agent fictif", "cabbalr"),
        source: Source::Demo,
        today: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
    }
}

/// Projections compared by their whole encoded content.
fn same(a: &Projections, b: &Projections) -> bool {
    encode(&Mark::default(), a).unwrap() == encode(&Mark::default(), b).unwrap()
}

async fn all_events(store: &Store) -> Vec<RecordedEvent> {
    let mut events = Vec::new();
    loop {
        let page = store
            .read_all(events.len() as i64 + 1, 10_000)
            .await
            .unwrap();
        if page.is_empty() {
            return events;
        }
        events.extend(page);
    }
}

/// A small deterministic generator (xorshift), so that failures replay.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Random as-of questions over `events`: positions, record times and effective dates taken
/// from the log (and a day either side), alone and combined.
fn questions(events: &[RecordedEvent], count: usize, seed: u64) -> Vec<AsOf> {
    let mut rng = Rng(seed);
    let mut dates: Vec<NaiveDate> = events.iter().map(|e| e.metadata.effective_date).collect();
    dates.sort();
    dates.dedup();
    (0..count)
        .map(|i| {
            let event = &events[rng.below(events.len())];
            let date = dates[rng.below(dates.len())];
            let date = match rng.below(3) {
                0 => date.checked_sub_days(Days::new(1)).unwrap(),
                1 => date,
                _ => date.checked_add_days(Days::new(1)).unwrap(),
            };
            match i % 4 {
                0 => AsOf {
                    position: Some(event.position),
                    ..AsOf::default()
                },
                1 => AsOf {
                    effective_on: Some(date),
                    ..AsOf::default()
                },
                2 => AsOf {
                    recorded_at: Some(event.recorded_at),
                    effective_on: Some(date),
                    ..AsOf::default()
                },
                _ => AsOf {
                    position: Some(event.position),
                    effective_on: Some(date),
                    ..AsOf::default()
                },
            }
        })
        .collect()
}

#[tokio::test]
async fn as_of_answers_from_snapshots_equal_the_fold_of_the_whole_log() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let store = Store::open(&db.url).await.unwrap();
        let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::every(97))
            .await
            .unwrap();
        demo::run(&ledger, &demo_config(), &defaults(), |_, _| {})
            .await
            .unwrap();
        ledger.read_model().snapshots_saved().await;
        let events = all_events(&store).await;
        let head = events.last().unwrap().position;
        assert!(
            head > 500,
            "the demo should record a few hundred events, not {head}"
        );
        let (latest, _) = store
            .latest_snapshot(SNAPSHOT_NAME, i64::MAX)
            .await
            .unwrap()
            .expect("snapshots saved while catching up");
        assert_eq!(latest, head / 97 * 97);

        // A fresh ledger: nothing in memory but what it reads from the snapshots.
        let reopened = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        let snapshots = reopened.read_model().snapshots();
        let mut from_snapshot = 0;
        for as_of in questions(&events, 60, 2024 + head as u64) {
            let expected = Projections::fold_as_of(&events, &as_of).unwrap();
            if snapshots.latest_usable(&as_of).await.unwrap().is_some() {
                from_snapshot += 1;
            }
            let answer = reopened.projections_as_of(&as_of).await.unwrap();
            assert!(same(&answer, &expected), "{as_of:?} on {}", db.backend);
            // Asked again: the kept answer, still the same.
            let again = reopened.projections_as_of(&as_of).await.unwrap();
            assert!(same(&again, &expected), "{as_of:?} again on {}", db.backend);
        }
        assert!(
            from_snapshot >= 10,
            "only {from_snapshot} of the questions could start from a snapshot"
        );
        store.shutdown().await;
    }
}

#[tokio::test]
async fn opening_starts_from_the_latest_snapshot_and_folds_the_rest_like_from_scratch() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let store = Store::open(&db.url).await.unwrap();
        let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        demo::run(&ledger, &demo_config(), &defaults(), |_, _| {})
            .await
            .unwrap();
        let events = all_events(&store).await;
        let from_scratch = Projections::fold(&events).unwrap();
        assert!(same(&ledger.projections().await.unwrap(), &from_scratch));

        // A snapshot two thirds in, marked with a fictitious porteur name that only it holds: if
        // the reopened ledger shows the name, it started from the snapshot.
        let at = events.len() * 2 / 3;
        let mut planted = Projections::fold(&events[..at]).unwrap();
        let mark = events[..at].iter().fold(Mark::default(), |m, e| m.after(e));
        let porteur_id = *planted.porteurs.by_id.keys().next().unwrap();
        let porteur = planted.porteurs.by_id.get_mut(&porteur_id).unwrap();
        porteur.name = "Association fictive (snapshot)".into();
        let snapshots = Snapshots::new(store.clone(), SnapshotPolicy::NEVER);
        snapshots
            .save(mark, std::sync::Arc::new(planted))
            .await
            .unwrap();
        let reopened = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        let name = reopened.projections().await.unwrap().porteurs.by_id[&porteur_id]
            .name
            .clone();
        assert_eq!(name, "Association fictive (snapshot)");

        // An honest snapshot at the same place: the rest folded on top equals the fold from
        // scratch, and so does the live catch-up of commands recorded afterwards.
        let db2 = fresh_copy_of(&db, &events[..at]).await;
        let store2 = Store::open(&db2.url).await.unwrap();
        Ledger::from_store_with(store2.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap()
            .snapshot_now()
            .await
            .unwrap();
        copy_events(&store2, &events[at..]).await;
        let resumed = Ledger::from_store_with(store2.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        let resumed_projections = resumed.projections().await.unwrap().clone();
        let scratch2 = Projections::fold(&all_events(&store2).await).unwrap();
        assert!(same(&resumed_projections, &scratch2), "on {}", db.backend);
        store.shutdown().await;
        store2.shutdown().await;
    }
}

/// A new database of the same backend holding copies of `events` (same streams, payloads and
/// metadata; new positions from 1, new hashes).
async fn fresh_copy_of(db: &testing::TestDb, events: &[RecordedEvent]) -> testing::TestDb {
    let copy = if db.backend == "sqlite" {
        testing::sqlite()
    } else {
        testing::postgres().await.unwrap()
    };
    let store = Store::open(&copy.url).await.unwrap();
    copy_events(&store, events).await;
    store.shutdown().await;
    copy
}

/// Appends copies of `events`, one command per original command, keeping versions.
async fn copy_events(store: &Store, events: &[RecordedEvent]) {
    use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, StreamAppend};
    let mut start = 0;
    while start < events.len() {
        let command_id = events[start].metadata.command_id;
        let end = events[start..]
            .iter()
            .position(|e| e.metadata.command_id != command_id)
            .map_or(events.len(), |n| start + n);
        let mut streams: Vec<StreamAppend> = Vec::new();
        for event in &events[start..end] {
            let new = NewEvent {
                event_type: event.event_type.clone(),
                schema_version: event.schema_version,
                payload: event.payload.clone(),
            };
            match streams.iter_mut().find(|s| s.stream_id == event.stream_id) {
                Some(stream) => stream.events.push(new),
                None => streams.push(StreamAppend {
                    stream_type: event.stream_type.clone(),
                    stream_id: event.stream_id.clone(),
                    expected: if event.version == 1 {
                        ExpectedVersion::NoStream
                    } else {
                        ExpectedVersion::Exact(event.version - 1)
                    },
                    events: vec![new],
                }),
            }
        }
        store
            .append(AppendRequest {
                metadata: events[start].metadata.clone(),
                streams,
            })
            .await
            .unwrap();
        start = end;
    }
}

#[tokio::test]
async fn snapshots_of_another_format_unreadable_or_out_of_place_are_ignored() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let store = Store::open(&db.url).await.unwrap();
        let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        demo::run(&ledger, &demo_config(), &defaults(), |_, _| {})
            .await
            .unwrap();
        let events = all_events(&store).await;
        let head = events.last().unwrap().position;
        let mark_at = |n: usize| events[..n].iter().fold(Mark::default(), |m, e| m.after(e));
        let mark_json = |m: &Mark| serde_json::to_string(m).unwrap();

        // An older format's snapshot (another name) holding nonsense: never read.
        store
            .save_snapshot("projections/v0", head, "not a snapshot")
            .await
            .unwrap();
        // This format's name, but unreadable: ignored.
        let m1 = mark_at(100);
        store
            .save_snapshot(SNAPSHOT_NAME, 100, "bm90IG1lc3NhZ2VwYWNr")
            .await
            .unwrap();
        store
            .save_snapshot(MARK_NAME, 100, &mark_json(&m1))
            .await
            .unwrap();
        // Readable, but stored at the wrong position (projections of 200 events saved at 300).
        let m2 = mark_at(200);
        let wrong_place = encode(&m2, &Projections::fold(&events[..200]).unwrap()).unwrap();
        store
            .save_snapshot(SNAPSHOT_NAME, 300, &wrong_place)
            .await
            .unwrap();
        store
            .save_snapshot(
                MARK_NAME,
                300,
                &mark_json(&Mark {
                    position: 300,
                    ..m2
                }),
            )
            .await
            .unwrap();
        // A mark that is not JSON.
        store.save_snapshot(MARK_NAME, 400, "{").await.unwrap();

        let reopened = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        let from_scratch = Projections::fold(&events).unwrap();
        assert!(same(&reopened.projections().await.unwrap(), &from_scratch));
        for position in [head, 450, 350, 250, 150, 100, 50] {
            let as_of = AsOf {
                position: Some(position),
                ..AsOf::default()
            };
            assert!(
                reopened
                    .read_model()
                    .snapshots()
                    .latest_usable(&as_of)
                    .await
                    .unwrap()
                    .is_none(),
                "no snapshot here is usable (asked at {position})"
            );
            let answer = reopened.projections_as_of(&as_of).await.unwrap();
            let expected = Projections::fold_as_of(&events, &as_of).unwrap();
            assert!(same(&answer, &expected), "at {position} on {}", db.backend);
        }
        store.shutdown().await;
    }
}

/// Each in-memory checkpoint at or before `from` is the fold of the log up to its position, its
/// report totals included.
fn assert_each_checkpoint_is_the_fold_of_the_log(
    checkpoints: &engagements_app::checkpoints::Checkpoints,
    events: &[RecordedEvent],
    from: i64,
) {
    let mut position = from;
    while let Some((mark, checkpoint)) = checkpoints.nearest_usable(&AsOf {
        position: Some(position),
        ..AsOf::default()
    }) {
        let expected = Projections::fold(&events[..mark.position as usize]).unwrap();
        assert!(
            same(&checkpoint, &expected),
            "checkpoint at {}",
            mark.position
        );
        assert_eq!(
            checkpoint
                .subsidy
                .signatory_table(None, &checkpoint.referential),
            expected
                .subsidy
                .signatory_table(None, &expected.referential),
            "report totals of the checkpoint at {}",
            mark.position
        );
        position = mark.position - 1;
    }
}

#[tokio::test]
async fn checkpoints_in_memory_stay_as_they_were_and_answer_like_the_fold_of_the_log() {
    use engagements_app::checkpoints::Checkpoints;
    use engagements_app::ReadModel;
    use std::sync::Arc;

    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let store = Store::open(&db.url).await.unwrap();
        let mut read_model = ReadModel::with_snapshots(
            Arc::new(Snapshots::new(store.clone(), SnapshotPolicy::NEVER)),
            store.clone(),
        );
        // Close together, and few enough kept that the spacing doubles on the way.
        read_model.set_checkpoints(Checkpoints::new(13, 20));
        let ledger = Ledger::from_read_model(store.clone(), read_model)
            .await
            .unwrap();
        // Every command is folded into the live read model, which keeps changing the dossiers
        // and porteurs the checkpoints share with it.
        demo::run(&ledger, &demo_config(), &defaults(), |_, _| {})
            .await
            .unwrap();
        ledger.catch_up().await.unwrap();
        let events = all_events(&store).await;
        let checkpoints = ledger.read_model().checkpoints();
        let (kept, spacing) = checkpoints.extent();
        assert!(
            kept >= 10 && spacing > 13,
            "{kept} checkpoints every {spacing}"
        );

        // Each checkpoint is still the fold of the log up to its position.
        assert_each_checkpoint_is_the_fold_of_the_log(checkpoints, &events, events.len() as i64);

        // As-of answers started from them equal the fold of the whole log.
        let mut from_checkpoint = 0;
        for as_of in questions(&events, 60, 7 + events.len() as u64) {
            if checkpoints.nearest_usable(&as_of).is_some() {
                from_checkpoint += 1;
            }
            let expected = Projections::fold_as_of(&events, &as_of).unwrap();
            let answer = ledger.projections_as_of(&as_of).await.unwrap();
            assert!(same(&answer, &expected), "{as_of:?} on {}", db.backend);
            for year in [None, Some(2024), Some(2025)] {
                assert_eq!(
                    answer.subsidy.signatory_table(year, &answer.referential),
                    expected
                        .subsidy
                        .signatory_table(year, &expected.referential),
                    "{as_of:?} {year:?}"
                );
            }
        }
        assert!(
            from_checkpoint >= 10,
            "only {from_checkpoint} of the questions could start from a checkpoint"
        );
        store.shutdown().await;
    }
}

/// After a restart from a snapshot, the moments before it are folded again from position 1 in
/// the background: checkpoints then cover them, each the fold of the log up to its position,
/// and the answers started from them equal the fold of the whole log.
#[tokio::test]
async fn after_a_restart_the_history_is_folded_into_checkpoints_like_the_log() {
    use engagements_app::checkpoints::Checkpoints;
    use engagements_app::ReadModel;
    use std::sync::Arc;

    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let store = Store::open(&db.url).await.unwrap();
        let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        demo::run(&ledger, &demo_config(), &defaults(), |_, _| {})
            .await
            .unwrap();
        let snapshot_at = ledger.snapshot_now().await.unwrap().position;
        let events = all_events(&store).await;
        assert_eq!(snapshot_at, events.len() as i64);

        // The restart: restored from the snapshot, no checkpoint before it.
        let mut read_model = ReadModel::with_snapshots(
            Arc::new(Snapshots::new(store.clone(), SnapshotPolicy::NEVER)),
            store.clone(),
        );
        read_model.set_checkpoints(Checkpoints::new(17, 1_000));
        let restarted = Ledger::from_read_model(store.clone(), read_model)
            .await
            .unwrap();
        let checkpoints = restarted.read_model().checkpoints();
        assert_eq!(
            checkpoints.extent().0,
            0,
            "nothing folded before the snapshot"
        );

        let reports = std::sync::Mutex::new(Vec::new());
        let report = |p: engagements_app::CatchUpProgress| reports.lock().unwrap().push(p);
        let folded = restarted
            .read_model()
            .fold_history(Some(&report))
            .await
            .unwrap();
        assert_eq!(folded, snapshot_at);
        let last = *reports.lock().unwrap().last().expect("a last report");
        assert!(last.done && last.position == snapshot_at && last.target == snapshot_at);
        let (kept, spacing) = checkpoints.extent();
        assert_eq!(spacing, 17);
        assert_eq!(kept as i64, snapshot_at / 17);

        assert_each_checkpoint_is_the_fold_of_the_log(checkpoints, &events, snapshot_at);
        for as_of in questions(&events, 40, 11) {
            let expected = Projections::fold_as_of(&events, &as_of).unwrap();
            let answer = restarted.projections_as_of(&as_of).await.unwrap();
            assert!(same(&answer, &expected), "{as_of:?} on {}", db.backend);
        }
        // A read model that folded from position 1 itself has nothing left to fold.
        assert_eq!(ledger.read_model().fold_history(None).await.unwrap(), 0);
        store.shutdown().await;
    }
}

/// Facts in force on a date, asked again: the same answer is handed out (not folded again)
/// while nothing is recorded; once events are recorded, the answer takes them in, as the fold
/// of the whole log does.
#[tokio::test]
async fn an_effective_date_answer_is_kept_until_an_event_is_recorded() {
    let db = testing::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
        .await
        .unwrap();
    demo::run(&ledger, &demo_config(), &defaults(), |_, _| {})
        .await
        .unwrap();
    let events = all_events(&store).await;
    store.shutdown().await;

    let half = events.len() / 2;
    let copy = fresh_copy_of(&db, &events[..half]).await;
    let store = Store::open(&copy.url).await.unwrap();
    let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
        .await
        .unwrap();
    let as_of = AsOf {
        effective_on: NaiveDate::from_ymd_opt(2025, 6, 30),
        ..AsOf::default()
    };
    let first = ledger.projections_as_of_shared(&as_of).await.unwrap();
    let again = ledger.projections_as_of_shared(&as_of).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "folded again");
    let copied = all_events(&store).await;
    assert!(same(
        &first,
        &Projections::fold_as_of(&copied, &as_of).unwrap()
    ));

    copy_events(&store, &events[half..]).await;
    // Folded here, the whole log tells which stretches hold facts in force on the date: every
    // such event lies in one, and the events of the later months are not read.
    ledger.catch_up().await.unwrap();
    let copied = all_events(&store).await;
    let date = as_of.effective_on.unwrap();
    let stretches = ledger
        .read_model()
        .in_force_stretches(1, copied.len() as i64, date)
        .expect("every position folded by this read model");
    for event in copied.iter().filter(|e| e.metadata.effective_date <= date) {
        assert!(
            stretches
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&event.position)),
            "event {} in force but not read",
            event.position
        );
    }
    let read: i64 = stretches.iter().map(|(first, last)| last - first + 1).sum();
    assert!(read < copied.len() as i64, "every event read");
    let later = ledger.projections_as_of_shared(&as_of).await.unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&first, &later),
        "an answer kept past new events"
    );
    let copied = all_events(&store).await;
    let expected = Projections::fold_as_of(&copied, &as_of).unwrap();
    assert!(same(&later, &expected));
    assert!(
        !same(&first, &later),
        "the second half changes nothing in force then"
    );
    store.shutdown().await;
}

/// Runs raw SQL beside the store with the snapshots' insert-only triggers out of the way: what
/// someone with direct access to the database could do.
async fn tamper_snapshots(db: &testing::TestDb, statements: &[String]) {
    use sqlx::Connection;
    if db.backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        for sql in [
            "DROP TRIGGER IF EXISTS snapshots_refuse_update".to_string(),
            "DROP TRIGGER IF EXISTS snapshots_refuse_delete".to_string(),
        ]
        .iter()
        .chain(statements)
        {
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let disable = "ALTER TABLE snapshots DISABLE TRIGGER USER".to_string();
        for sql in [disable].iter().chain(statements) {
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// Every column of the snapshot rows of `store` at `position`, as SQL literals.
async fn snapshot_rows_as_inserts(db: &testing::TestDb, position: i64) -> Vec<String> {
    use sqlx::Connection;
    let query = format!(
        "SELECT name, position, payload, recorded_at, head_hash, payload_sha256 FROM snapshots \
         WHERE position = {position} ORDER BY name"
    );
    let rows: Vec<(String, i64, String, i64, String, String)> = if db.backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query_as(&query).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_as(&query).fetch_all(&mut c).await.unwrap()
    };
    assert_eq!(rows.len(), 2, "a snapshot and its mark at {position}");
    rows.into_iter()
        .map(|(name, position, payload, recorded_at, head_hash, digest)| {
            format!(
                "INSERT INTO snapshots (name, position, payload, recorded_at, head_hash, payload_sha256) \
                 VALUES ('{name}', {position}, '{}', {recorded_at}, '{head_hash}', '{digest}')",
                payload.replace('\'', "''")
            )
        })
        .collect()
}

/// The ledger of `config`'s demo on a new database of `db`'s backend, saving snapshots every
/// 97 events.
async fn demo_ledger(db: &testing::TestDb, config: &DemoConfig) -> (Store, Vec<RecordedEvent>) {
    let store = Store::open(&db.url).await.unwrap();
    let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::every(97))
        .await
        .unwrap();
    demo::run(&ledger, config, &defaults(), |_, _| {})
        .await
        .unwrap();
    ledger.read_model().snapshots_saved().await;
    let events = all_events(&store).await;
    (store, events)
}

fn signatory_figures(p: &Projections) -> engagements_projections::Table {
    p.subsidy.signatory_table(None, &p.referential)
}

#[tokio::test]
async fn snapshot_rows_copied_from_another_ledger_never_change_a_figure() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let (store, events) = demo_ledger(&db, &demo_config()).await;
        let other_db = if db.backend == "sqlite" {
            testing::sqlite()
        } else {
            testing::postgres().await.unwrap()
        };
        let other_config = DemoConfig {
            seed: 8,
            ..demo_config()
        };
        let (other, other_events) = demo_ledger(&other_db, &other_config).await;
        // The latest position where both ledgers have a snapshot, with at least one before it.
        let at = (events.len().min(other_events.len()) - 1) / 97 * 97;
        assert!(at >= 2 * 97, "{at}");
        let truth = Projections::fold(&events).unwrap();
        // The rows copied below hold other figures than this ledger's at that position.
        let (_, other_payload) = other
            .latest_snapshot(SNAPSHOT_NAME, at as i64)
            .await
            .unwrap()
            .unwrap();
        let (_, other_state) =
            engagements_app::snapshots::decode(at as i64, &other_payload).unwrap();
        let ours_at = Projections::fold(&events[..at]).unwrap();
        assert_ne!(signatory_figures(&other_state), signatory_figures(&ours_at));
        other.shutdown().await;

        // The other ledger's rows at `at` in place of this one's; later ones deleted.
        let mut statements = vec![format!("DELETE FROM snapshots WHERE position >= {at}")];
        statements.extend(snapshot_rows_as_inserts(&other_db, at as i64).await);
        tamper_snapshots(&db, &statements).await;

        let reopened = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER)
            .await
            .unwrap();
        assert_eq!(
            signatory_figures(&reopened.projections().await.unwrap()),
            signatory_figures(&truth),
            "the copied snapshot changed a report figure on {}",
            db.backend
        );
        for position in [at as i64 - 1, at as i64, events.len() as i64] {
            let as_of = AsOf {
                position: Some(position),
                ..AsOf::default()
            };
            let answer = reopened.projections_as_of(&as_of).await.unwrap();
            let expected = Projections::fold_as_of(&events, &as_of).unwrap();
            assert!(same(&answer, &expected), "at {position} on {}", db.backend);
        }
        // The fold from the log names the copied rows.
        let check = engagements_app::snapshots::verify_against_log(&store)
            .await
            .unwrap();
        let named: std::collections::BTreeSet<(String, i64)> = check
            .problems
            .iter()
            .map(|p| (p.name.clone(), p.position))
            .collect();
        let expected: std::collections::BTreeSet<(String, i64)> = [
            (SNAPSHOT_NAME.to_string(), at as i64),
            (MARK_NAME.to_string(), at as i64),
        ]
        .into();
        assert_eq!(named, expected, "{:?}", check.problems);
        store.shutdown().await;
    }
}

#[tokio::test]
async fn a_snapshot_rebound_to_the_chain_by_hand_is_named_by_the_fold_of_the_log() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let (store, events) = demo_ledger(&db, &demo_config()).await;
        let check = engagements_app::snapshots::verify_against_log(&store)
            .await
            .unwrap();
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert!(check.compared >= 10, "{check:?}");

        // Someone with write access saves a doctored fold at 450 with a correct binding (the
        // digest recomputed, the chain's hash at 450): reads may use it...
        let at = 450;
        let mut doctored = Projections::fold(&events[..at]).unwrap();
        let porteur_id = *doctored.porteurs.by_id.keys().next().unwrap();
        doctored.porteurs.by_id.get_mut(&porteur_id).unwrap().name = "Association fictive".into();
        let mark = events[..at].iter().fold(Mark::default(), |m, e| m.after(e));
        store
            .save_snapshot(SNAPSHOT_NAME, at as i64, &encode(&mark, &doctored).unwrap())
            .await
            .unwrap();
        store
            .save_snapshot(MARK_NAME, at as i64, &serde_json::to_string(&mark).unwrap())
            .await
            .unwrap();
        // ...but not when snapshots are off,
        let folded = Ledger::from_store_with(store.clone(), SnapshotPolicy::OFF)
            .await
            .unwrap();
        let name = folded.projections().await.unwrap().porteurs.by_id[&porteur_id]
            .name
            .clone();
        assert_ne!(name, "Association fictive");
        // ...and the fold of the log names it.
        let check = engagements_app::snapshots::verify_against_log(&store)
            .await
            .unwrap();
        assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
        assert_eq!(check.problems[0].position, at as i64);
        assert_eq!(check.problems[0].name, SNAPSHOT_NAME);
        assert!(
            check.problems[0]
                .to_string()
                .contains("does not match the events: forged or from other code"),
            "{}",
            check.problems[0]
        );
        store.shutdown().await;
    }
}

#[tokio::test]
async fn snapshots_are_insert_only() {
    use sqlx::Connection;
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let (store, _) = demo_ledger(&db, &demo_config()).await;
        let attempts = [
            "UPDATE snapshots SET payload = 'x' WHERE position = 97",
            "DELETE FROM snapshots WHERE position = 97",
        ];
        for sql in attempts {
            let error = if db.backend == "sqlite" {
                let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.map(|_| ())
            } else {
                let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.map(|_| ())
            }
            .expect_err(sql)
            .to_string();
            assert!(error.contains("insert-only"), "{sql}: {error}");
        }
        if db.backend == "postgres" {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let error = sqlx::query("TRUNCATE snapshots")
                .execute(&mut c)
                .await
                .expect_err("truncate")
                .to_string();
            assert!(error.contains("insert-only"), "{error}");
        }
        assert!(store
            .latest_snapshot(SNAPSHOT_NAME, 97)
            .await
            .unwrap()
            .is_some());
        // A snapshot past the end of the log is refused.
        assert!(store
            .save_snapshot(SNAPSHOT_NAME, 1_000_000, "x")
            .await
            .is_err());
        store.shutdown().await;
    }
}
