//! Audit: tamper detection (checkpoints, bundles), the trail, and the two time axes on a scripted
//! subsidy scenario, on both backends. Every name and amount here is fictitious.

use chrono::NaiveDate;
use engagements_app::Ledger;
use engagements_audit::bundle::{export_bundle, verify_bundle, BundleContents};
use engagements_audit::checkpoint::{
    check_inclusion, check_recorded, inclusion_proof, init_key, record_checkpoint, record_key,
    recorded_checkpoints, rotate_key, verify_checkpoint, Checkpoint, CheckpointEvent,
    CheckpointProblem, KeyRecording, SigningKey,
};
use engagements_audit::history::history;
use engagements_audit::AuditError;
use engagements_domain::dossier::{
    DossierEvent, FundingRequest, ObjectifWeight, PaymentKind, QuartierShare,
};
use engagements_domain::event::DomainEvent;
use engagements_domain::{ActKind, ActRef, Actor, Amount, DossierId, Metadata, PorteurId, Source};
use engagements_projections::AsOf;
use engagements_store::testing::{self, TestDb};
use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, Store};
use sqlx::Connection;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn meta(effective: &str) -> Metadata {
    Metadata::new(
        Actor::new("Instructeur fictif", "etat"),
        Source::Cli,
        day(effective),
    )
    .with_act(ActRef {
        kind: ActKind::Comite,
        reference: "CF-FICTIF-2025".into(),
        date: Some(day(effective)),
    })
}

/// Appends `count` neutral events (a stream type no projection folds).
async fn notes(store: &Store, count: usize) {
    for i in 0..count {
        store
            .append(AppendRequest::single(
                meta("2025-01-01"),
                "note",
                format!("note-{i}"),
                ExpectedVersion::NoStream,
                vec![NewEvent {
                    event_type: "NoteTaken".into(),
                    schema_version: 1,
                    payload: format!(r#"{{"text":"note fictive {i}"}}"#),
                }],
            ))
            .await
            .unwrap();
    }
}

/// Runs raw SQL beside the store, with the append-only triggers out of the way: what someone with
/// direct access to the database could do.
async fn tamper(db: &TestDb, statements: &[&str]) {
    if db.backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        for sql in [
            "DROP TRIGGER IF EXISTS events_refuse_update",
            "DROP TRIGGER IF EXISTS events_refuse_delete",
        ]
        .iter()
        .chain(statements)
        {
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let disable = "ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete";
        for sql in [disable].iter().chain(statements) {
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// The ledger's own key in these tests (fixed, fictitious).
fn ledger_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// A fresh key, written to a file as `keys init` does.
fn key() -> SigningKey {
    let dir = tempfile::tempdir().unwrap();
    init_key(&dir.path().join("k")).unwrap()
}

/// A ledger with 8 notes and a checkpoint over them, then 2 more notes.
async fn checkpointed(db: &TestDb) -> (Store, Checkpoint) {
    let store = Store::open(&db.url).await.unwrap();
    notes(&store, 8).await;
    let checkpoint = record_checkpoint(&store, &ledger_key(), meta("2025-01-01"))
        .await
        .unwrap();
    assert_eq!(checkpoint.position, 8);
    store
        .append(AppendRequest::single(
            meta("2025-01-02"),
            "note",
            "note-late",
            ExpectedVersion::NoStream,
            vec![NewEvent {
                event_type: "NoteTaken".into(),
                schema_version: 1,
                payload: r#"{"text":"après"}"#.into(),
            }],
        ))
        .await
        .unwrap();
    (store, checkpoint)
}

#[tokio::test]
async fn an_intact_log_extends_its_checkpoint() {
    for db in testing::all().await {
        let (store, checkpoint) = checkpointed(&db).await;
        assert_eq!(
            verify_checkpoint(&store, &checkpoint, None).await.unwrap(),
            None
        );
        let recorded = recorded_checkpoints(&store).await.unwrap();
        assert_eq!(recorded, vec![checkpoint.clone()], "{}", db.backend);
        // Inclusion proof of event 3 in the checkpoint.
        let proof = inclusion_proof(&store, 3, &checkpoint).await.unwrap();
        assert_eq!(proof.len(), 6);
        check_inclusion(&proof, &checkpoint).unwrap();
        let mut forged = proof.clone();
        forged[0].payload = r#"{"text":"autre"}"#.into();
        assert!(check_inclusion(&forged, &checkpoint).is_err());
        store.shutdown().await;
    }
}

#[tokio::test]
async fn an_altered_payload_is_detected() {
    for db in testing::all().await {
        let (store, checkpoint) = checkpointed(&db).await;
        tamper(
            &db,
            &["UPDATE events SET payload = '{\"text\":\"falsifié\"}' WHERE position = 4"],
        )
        .await;
        let problem = verify_checkpoint(&store, &checkpoint, None).await.unwrap();
        assert!(
            matches!(
                problem,
                Some(CheckpointProblem::ChangedBefore { position: 4, .. })
            ),
            "{}: {problem:?}",
            db.backend
        );
        store.shutdown().await;
    }
}

#[tokio::test]
async fn a_deleted_row_is_detected() {
    for db in testing::all().await {
        let (store, checkpoint) = checkpointed(&db).await;
        tamper(&db, &["DELETE FROM events WHERE position = 5"]).await;
        let problem = verify_checkpoint(&store, &checkpoint, None).await.unwrap();
        assert!(
            matches!(
                problem,
                Some(CheckpointProblem::ChangedBefore { position: 6, .. })
            ),
            "{}: {problem:?}",
            db.backend
        );
        store.shutdown().await;
    }
}

#[tokio::test]
async fn reordered_rows_are_detected() {
    for db in testing::all().await {
        let (store, checkpoint) = checkpointed(&db).await;
        tamper(
            &db,
            &[
                "UPDATE events SET position = -3 WHERE position = 3",
                "UPDATE events SET position = 3 WHERE position = 4",
                "UPDATE events SET position = 4 WHERE position = -3",
            ],
        )
        .await;
        let problem = verify_checkpoint(&store, &checkpoint, None).await.unwrap();
        assert!(
            matches!(
                problem,
                Some(CheckpointProblem::ChangedBefore { position: 3, .. })
            ),
            "{}: {problem:?}",
            db.backend
        );
        store.shutdown().await;
    }
}

#[tokio::test]
async fn a_log_truncated_after_a_checkpoint_is_detected() {
    for db in testing::all().await {
        let (store, checkpoint) = checkpointed(&db).await;
        // Everything from position 7 on goes: the chain that is left is consistent by itself.
        tamper(&db, &["DELETE FROM events WHERE position >= 7"]).await;
        assert!(store.verify(|_| {}).await.unwrap().is_ok());
        let problem = verify_checkpoint(&store, &checkpoint, None).await.unwrap();
        assert_eq!(
            problem,
            Some(CheckpointProblem::Truncated {
                position_last: 6,
                checkpoint: 8
            }),
            "{}",
            db.backend
        );
        store.shutdown().await;
    }
}

#[tokio::test]
async fn a_rewritten_history_with_recomputed_hashes_is_detected() {
    for db in testing::all().await {
        let (store, checkpoint) = checkpointed(&db).await;
        // Rewrite position 2 and recompute every hash after it: the chain is consistent again,
        // only the checkpoint kept outside can tell.
        let mut rows = store.read_rows(1, 100).await.unwrap();
        let mut statements = Vec::new();
        rows[1].payload = r#"{"text":"réécrit"}"#.into();
        for i in 1..rows.len() {
            rows[i].prev_hash = rows[i - 1].hash.clone();
            rows[i].hash = engagements_store::hash::event_hash(&rows[i]);
            statements.push(format!(
                "UPDATE events SET payload = '{}', prev_hash = '{}', hash = '{}' WHERE position = {}",
                rows[i].payload, rows[i].prev_hash, rows[i].hash, rows[i].position
            ));
        }
        let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
        tamper(&db, &statements).await;
        assert!(
            store.verify(|_| {}).await.unwrap().is_ok(),
            "the chain alone is fooled"
        );
        let problem = verify_checkpoint(&store, &checkpoint, None).await.unwrap();
        assert!(
            matches!(problem, Some(CheckpointProblem::Rewritten { .. })),
            "{}: {problem:?}",
            db.backend
        );
        store.shutdown().await;
    }
}

/// Rewrites the payload of the event at `from` and recomputes every hash after it, in SQL: the
/// chain is consistent again, the recorded checkpoints are not.
async fn rewrite_consistently(db: &TestDb, store: &Store, from: i64) {
    let mut rows = store.read_rows(1, 1_000).await.unwrap();
    let from = from as usize - 1;
    rows[from].payload = r#"{"text":"réécrit"}"#.into();
    let mut statements = Vec::new();
    for i in from..rows.len() {
        if i > 0 {
            rows[i].prev_hash = rows[i - 1].hash.clone();
        }
        rows[i].hash = engagements_store::hash::event_hash(&rows[i]);
        statements.push(format!(
            "UPDATE events SET payload = '{}', prev_hash = '{}', hash = '{}' WHERE position = {}",
            rows[i].payload.replace('\'', "''"),
            rows[i].prev_hash,
            rows[i].hash,
            rows[i].position
        ));
    }
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    tamper(db, &statements).await;
    assert!(
        store.verify(|_| {}).await.unwrap().is_ok(),
        "the chain alone is fooled"
    );
}

#[tokio::test]
async fn a_consistent_rewrite_fails_the_checkpoints_recorded_in_the_log() {
    for db in testing::all().await {
        let (store, checkpoint) = checkpointed(&db).await;
        let check = check_recorded(&store).await.unwrap();
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert_eq!(check.checkpoints_ok, 1);
        assert_eq!(check.last_ok.as_ref().map(|(_, c)| c), Some(&checkpoint));

        rewrite_consistently(&db, &store, 3).await;
        let check = check_recorded(&store).await.unwrap();
        assert_eq!(
            check.problems.len(),
            1,
            "{}: {:?}",
            db.backend,
            check.problems
        );
        let problem = check.problems[0].to_string();
        assert!(
            problem.contains("checkpoint recorded at position 9 over position 8")
                && problem.contains("history was rewritten"),
            "{problem}"
        );
        // Signing the rewritten head is refused: it does not extend the recorded checkpoint.
        let refused = record_checkpoint(&store, &ledger_key(), meta("2025-01-03")).await;
        assert!(
            matches!(refused, Err(AuditError::CheckpointNotExtended(_))),
            "{}: {refused:?}",
            db.backend
        );
        assert_eq!(store.head().await.unwrap().unwrap().position, 10);
        store.shutdown().await;
    }
}

#[tokio::test]
async fn recorded_checkpoints_must_be_signed_by_the_recorded_key() {
    for db in testing::all().await {
        let store = Store::open(&db.url).await.unwrap();
        notes(&store, 3).await;
        let first = ledger_key();
        assert_eq!(
            record_key(&store, &first.verifying_key(), meta("2025-01-01"))
                .await
                .unwrap(),
            KeyRecording::Recorded
        );
        // Another key is refused, for recording and for signing.
        let other = key();
        assert!(
            record_key(&store, &other.verifying_key(), meta("2025-01-01"))
                .await
                .is_err()
        );
        let refused = record_checkpoint(&store, &other, meta("2025-01-01")).await;
        assert!(
            matches!(refused, Err(AuditError::NotTheLedgerKey { .. })),
            "{refused:?}"
        );
        record_checkpoint(&store, &first, meta("2025-01-01"))
            .await
            .unwrap();
        // A rotation endorsed by the first key makes the other one the ledger's key.
        rotate_key(&store, &first, &other.verifying_key(), meta("2025-01-02"))
            .await
            .unwrap();
        record_checkpoint(&store, &other, meta("2025-01-02"))
            .await
            .unwrap();
        let check = check_recorded(&store).await.unwrap();
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert_eq!(check.checkpoints_ok, 2);
        assert_eq!(
            check.key,
            Some(hex::encode(other.verifying_key().as_bytes()))
        );

        // A checkpoint appended straight into the log with a third key does not hold.
        let intruder = key();
        let head = store.head().await.unwrap().unwrap();
        let forged = Checkpoint::sign(&intruder, head.position, &head.hash);
        store
            .append(AppendRequest::single(
                meta("2025-01-03"),
                "checkpoint",
                "checkpoints",
                ExpectedVersion::Any,
                vec![NewEvent::from_event(&CheckpointEvent::CheckpointSigned {
                    checkpoint: forged,
                })
                .unwrap()],
            ))
            .await
            .unwrap();
        let check = check_recorded(&store).await.unwrap();
        assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
        assert!(
            check.problems[0]
                .to_string()
                .contains("not by the ledger's key"),
            "{}",
            check.problems[0]
        );
        store.shutdown().await;
    }
}

#[tokio::test]
async fn a_checkpoint_by_another_key_or_altered_is_refused() {
    let db = testing::sqlite();
    let (store, checkpoint) = checkpointed(&db).await;
    let other = key().verifying_key();
    let problem = verify_checkpoint(&store, &checkpoint, Some(&other))
        .await
        .unwrap();
    assert!(
        matches!(problem, Some(CheckpointProblem::Signature(_))),
        "{problem:?}"
    );
    let mut altered = checkpoint.clone();
    altered.position = 7;
    let problem = verify_checkpoint(&store, &altered, None).await.unwrap();
    assert!(
        matches!(problem, Some(CheckpointProblem::Signature(_))),
        "{problem:?}"
    );
    store.shutdown().await;
}

async fn exported(store: &Store, key: &SigningKey) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let referential = tempfile::tempdir().unwrap();
    std::fs::write(
        referential.path().join("quartiers.json"),
        r#"{"quartiers":[]}"#,
    )
    .unwrap();
    let head = store.head().await.unwrap().unwrap().position;
    let table = engagements_projections::Table::new("vide", &["colonne"]);
    export_bundle(
        store,
        &dir.path().join("bundle"),
        BundleContents {
            referential_dir: Some(referential.path()),
            key: Some(key),
            reports: vec![table],
            position_last: head,
            persons: true,
        },
    )
    .await
    .unwrap();
    dir
}

#[tokio::test]
async fn a_bundle_verifies_offline_and_any_edit_is_detected() {
    for db in testing::all().await {
        let (store, kept) = checkpointed(&db).await;
        let signer = ledger_key();
        let dir = exported(&store, &signer).await;
        let bundle = dir.path().join("bundle");
        let trusted = signer.verifying_key();
        let report = verify_bundle(&bundle, Some(&trusted), &[]).unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
        assert!(report.signed);
        assert_eq!((report.events, report.position_last), (10, 10));
        assert_eq!(report.checkpoints_checked, 2);

        type BundleEdit = Box<dyn Fn(&std::path::Path)>;
        let edits: Vec<(&str, BundleEdit)> = vec![
            (
                "events.jsonl",
                Box::new(|b| replace_in(b, "events.jsonl", "note fictive 2", "note fictive 9")),
            ),
            (
                "reports/vide.csv",
                Box::new(|b| replace_in(b, "reports/vide.csv", "colonne", "autre")),
            ),
            (
                "referential",
                Box::new(|b| replace_in(b, "referential/quartiers.json", "[]", "[1]")),
            ),
            (
                "added file",
                Box::new(|b| std::fs::write(b.join("extra.txt"), "x").unwrap()),
            ),
            (
                "manifest",
                Box::new(|b| replace_in(b, "MANIFEST.json", "\"events\": 10", "\"events\": 11")),
            ),
            (
                "deleted file",
                Box::new(|b| std::fs::remove_file(b.join("checkpoints.jsonl")).unwrap()),
            ),
        ];
        for (what, edit) in edits {
            let copy = tempfile::tempdir().unwrap();
            copy_dir(&bundle, copy.path());
            edit(copy.path());
            let report = verify_bundle(copy.path(), Some(&trusted), &[]).unwrap();
            assert!(
                !report.is_ok(),
                "{}: editing {what} went unnoticed",
                db.backend
            );
        }

        // Rewrite the bundle's log, recompute its chain and manifest, drop the signatures: only a
        // checkpoint kept by the auditor shows it.
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&bundle, copy.path());
        rewrite_unsigned(copy.path());
        let alone = verify_bundle(copy.path(), None, &[]).unwrap();
        assert!(alone.is_ok(), "self-consistent: {:?}", alone.problems);
        let with_kept = verify_bundle(copy.path(), None, std::slice::from_ref(&kept)).unwrap();
        assert!(
            !with_kept.is_ok(),
            "{}: rewritten bundle passed a kept checkpoint",
            db.backend
        );
        store.shutdown().await;
    }
}

fn replace_in(dir: &std::path::Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} lacks {from}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Rewrites row 2 of a bundle, recomputes the chain and the manifest, removes what was signed.
fn rewrite_unsigned(dir: &std::path::Path) {
    use engagements_audit::bundle::{BundleRow, Manifest};
    use sha2::Digest;
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let mut rows: Vec<engagements_store::EventRow> = text
        .lines()
        .map(|l| serde_json::from_str::<BundleRow>(l).unwrap().into())
        .collect();
    rows[1].payload = r#"{"text":"réécrit"}"#.into();
    for i in 1..rows.len() {
        rows[i].prev_hash = rows[i - 1].hash.clone();
        rows[i].hash = engagements_store::hash::event_hash(&rows[i]);
    }
    let lines: String = rows
        .into_iter()
        .map(|r| serde_json::to_string(&BundleRow::from(r)).unwrap() + "\n")
        .collect();
    std::fs::write(dir.join("events.jsonl"), &lines).unwrap();
    for file in [
        "MANIFEST.sig",
        "public-key.txt",
        "checkpoint.json",
        "checkpoints.jsonl",
    ] {
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    let mut manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(dir.join("MANIFEST.json")).unwrap()).unwrap();
    manifest.head_hash = lines
        .lines()
        .last()
        .map(|l| serde_json::from_str::<BundleRow>(l).unwrap().hash)
        .unwrap();
    manifest.files.retain(|f| {
        !["public-key.txt", "checkpoint.json", "checkpoints.jsonl"].contains(&f.path.as_str())
    });
    for file in &mut manifest.files {
        let bytes = std::fs::read(dir.join(&file.path)).unwrap();
        file.sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        file.bytes = bytes.len() as u64;
    }
    std::fs::write(
        dir.join("MANIFEST.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
}

// ---- The scripted scenario: grant, increase, payment, correction, reversement. ----

struct Scenario {
    dossier_id: DossierId,
}

fn eur(n: u64) -> Amount {
    Amount::euros(n)
}

async fn record(store: &Store, effective: &str, event: DossierEvent, dossier_id: DossierId) -> i64 {
    store
        .append(AppendRequest::single(
            meta(effective),
            DossierEvent::STREAM_TYPE,
            dossier_id.stream_id(),
            ExpectedVersion::Any,
            vec![NewEvent::from_event(&event).unwrap()],
        ))
        .await
        .unwrap()
        .last_position()
}

/// Records the scenario; positions 1 to 7.
async fn scenario(store: &Store) -> Scenario {
    let dossier_id = DossierId::new();
    let line = |amount: Amount| {
        (
            dossier_id,
            "etat".to_string(),
            "bop147-aap".to_string(),
            amount,
        )
    };
    let (d, f, disp, _) = line(eur(0));
    let events = [
        (
            "2025-01-10",
            DossierEvent::DossierFiled {
                dossier_id: d,
                porteur_id: PorteurId::new(),
                exercice: 2025,
                title: "Atelier fictif".into(),
                description: String::new(),
                total_budget: eur(30_000),
                quartiers: vec![QuartierShare {
                    quartier: "QN06209".into(),
                    share_pct: None,
                }],
                objectifs: vec![ObjectifWeight {
                    objectif: 1,
                    weight: None,
                }],
                requests: vec![FundingRequest {
                    financeur: f.clone(),
                    dispositif: disp.clone(),
                    amount: eur(15_000),
                }],
                pistes: vec![],
            },
        ),
        (
            "2025-03-12",
            DossierEvent::SubsidyGranted {
                dossier_id: d,
                financeur: f.clone(),
                dispositif: disp.clone(),
                amount: eur(10_000),
                comite: "CF-FICTIF-2025".into(),
                decided_on: day("2025-03-12"),
                majoration_reason: None,
            },
        ),
        (
            "2025-06-01",
            DossierEvent::SubsidyIncreased {
                dossier_id: d,
                financeur: f.clone(),
                dispositif: disp.clone(),
                amount: eur(2_000),
                granted_after: eur(12_000),
                reason: "avenant fictif".into(),
                decided_on: day("2025-06-01"),
            },
        ),
        (
            "2025-07-01",
            DossierEvent::PaymentRecorded {
                dossier_id: d,
                financeur: f.clone(),
                dispositif: disp.clone(),
                kind: PaymentKind::Avance,
                amount: eur(6_000),
                paid_on: day("2025-07-01"),
                mandate_reference: "MANDAT-FICTIF-1".into(),
            },
        ),
        // The correction: the increase was 1,000 € too high; recorded later, in force since June.
        (
            "2025-06-01",
            DossierEvent::SubsidyReduced {
                dossier_id: d,
                financeur: f.clone(),
                dispositif: disp.clone(),
                amount: eur(1_000),
                granted_after: eur(11_000),
                reason: "correction d'une erreur de saisie".into(),
                decided_on: day("2025-06-01"),
            },
        ),
        (
            "2025-10-01",
            DossierEvent::ReversementOrdered {
                dossier_id: d,
                financeur: f.clone(),
                dispositif: disp.clone(),
                amount: eur(1_000),
                reason: "action réalisée en partie".into(),
                ordered_on: day("2025-10-01"),
            },
        ),
        (
            "2025-11-15",
            DossierEvent::ReversementReceived {
                dossier_id: d,
                financeur: f.clone(),
                dispositif: disp.clone(),
                amount: eur(1_000),
                received_on: day("2025-11-15"),
            },
        ),
    ];
    for (position, (effective, event)) in events.into_iter().enumerate() {
        let recorded = record(store, effective, event, dossier_id).await;
        assert_eq!(recorded, position as i64 + 1);
    }
    Scenario { dossier_id }
}

/// (granted, paid, reversement received) on the line, as the projections say; `None` if the
/// dossier is not known.
async fn line_as_of(ledger: &Ledger, s: &Scenario, as_of: AsOf) -> Option<(u64, u64, u64)> {
    let projections = ledger.projections_as_of(&as_of).await.unwrap();
    let dossier = projections.subsidy.dossier(&s.dossier_id)?;
    let line = dossier
        .lines
        .get(&("etat".to_string(), "bop147-aap".to_string()))?;
    let whole = |a: Amount| a.cents() as u64 / 100;
    Some((
        whole(line.granted),
        whole(line.paid),
        whole(line.reversement_received),
    ))
}

#[tokio::test]
async fn each_as_of_answer_is_right_at_every_step_on_both_time_axes() {
    for db in testing::all().await {
        let store = Store::open(&db.url).await.unwrap();
        let s = scenario(&store).await;
        let ledger = Ledger::from_store(store.clone()).await.unwrap();
        let at = |position: i64| AsOf {
            position: Some(position),
            ..AsOf::default()
        };
        // Record time: what the ledger said after each event, including the uncorrected increase.
        let said = [
            Some((0, 0, 0)),
            Some((10_000, 0, 0)),
            Some((12_000, 0, 0)),
            Some((12_000, 6_000, 0)),
            Some((11_000, 6_000, 0)),
            Some((11_000, 6_000, 0)),
            Some((11_000, 6_000, 1_000)),
        ];
        for (index, expected) in said.iter().enumerate() {
            let got = line_as_of(&ledger, &s, at(index as i64 + 1)).await;
            assert_eq!(&got, expected, "{} at position {}", db.backend, index + 1);
        }
        // Record time by instant: just after position 3, before the payment.
        let rows = store.read_rows(3, 1).await.unwrap();
        let after_3 = chrono::DateTime::from_timestamp_micros(rows[0].recorded_at).unwrap();
        let by_time = AsOf {
            recorded_at: Some(after_3),
            ..AsOf::default()
        };
        assert_eq!(line_as_of(&ledger, &s, by_time).await, Some((12_000, 0, 0)));

        // Business time, as known now: the correction applies from June on.
        let on = |date: &str| AsOf {
            effective_on: Some(day(date)),
            ..AsOf::default()
        };
        assert_eq!(line_as_of(&ledger, &s, on("2025-01-01")).await, None);
        assert_eq!(
            line_as_of(&ledger, &s, on("2025-02-01")).await,
            Some((0, 0, 0))
        );
        assert_eq!(
            line_as_of(&ledger, &s, on("2025-03-31")).await,
            Some((10_000, 0, 0))
        );
        assert_eq!(
            line_as_of(&ledger, &s, on("2025-06-15")).await,
            Some((11_000, 0, 0))
        );
        assert_eq!(
            line_as_of(&ledger, &s, on("2025-08-01")).await,
            Some((11_000, 6_000, 0))
        );
        assert_eq!(
            line_as_of(&ledger, &s, on("2025-12-31")).await,
            Some((11_000, 6_000, 1_000))
        );

        // Both: what we knew after position 4 about what was in force on 15 June: the increase,
        // not yet its correction.
        let both = AsOf {
            position: Some(4),
            effective_on: Some(day("2025-06-15")),
            ..AsOf::default()
        };
        assert_eq!(line_as_of(&ledger, &s, both).await, Some((12_000, 0, 0)));

        // The trail follows the same axes.
        let stream = s.dossier_id.stream_id();
        let trail = history(&store, &stream, &AsOf::now()).await.unwrap();
        assert_eq!(trail.entries.len(), 7);
        let text: Vec<&str> = trail
            .entries
            .iter()
            .map(|e| e.description.as_str())
            .collect();
        assert!(
            text[1].contains("accordé 0,00 € → 10\u{202f}000,00 €"),
            "{}",
            text[1]
        );
        assert!(
            text[2].contains("10\u{202f}000,00 € → 12\u{202f}000,00 €"),
            "{}",
            text[2]
        );
        assert!(
            text[3].contains("payé 0,00 € → 6\u{202f}000,00 € sur 12\u{202f}000,00 € accordés"),
            "{}",
            text[3]
        );
        assert!(
            text[4].contains("12\u{202f}000,00 € → 11\u{202f}000,00 €"),
            "{}",
            text[4]
        );
        assert!(
            text[6].contains("payé net 6\u{202f}000,00 € → 5\u{202f}000,00 €"),
            "{}",
            text[6]
        );
        assert_eq!(trail.entries[0].actor, "Instructeur fictif");
        assert_eq!(
            trail.entries[0].act.as_deref(),
            Some("décision d'un comité CF-FICTIF-2025 (10/01/2025)")
        );
        let earlier = history(&store, &s.dossier_id.to_string(), &at(3))
            .await
            .unwrap();
        assert_eq!(earlier.entries.len(), 3);
        let in_force = history(&store, &stream, &on("2025-06-15")).await.unwrap();
        assert_eq!(
            in_force
                .entries
                .iter()
                .map(|e| e.position)
                .collect::<Vec<_>>(),
            vec![1, 2, 3, 5]
        );
        let by_reference = history(&store, "MANDAT-FICTIF-1", &AsOf::now())
            .await
            .unwrap();
        assert_eq!(
            by_reference.entries.len(),
            7,
            "a reference pulls in its dossier"
        );
        assert!(history(&store, "RIEN-DE-TEL", &AsOf::now()).await.is_err());
        store.shutdown().await;
    }
}
