//! The binary refuses what it must not record or hand out: a token for an organisation the
//! contract does not know; command lines with a repeated key, a loosely written amount, a date
//! outside the sane window or a control character in text. And the SQLite file, which holds the
//! hashes of tokens and sessions, is readable by its owner only.

use engagements_e2e::{backends, engagements, run_ok, testing, TestDb};

fn tokens_create(
    db: &TestDb,
    organisation: &str,
    role: &str,
    extra: &[&str],
) -> std::process::Output {
    engagements(db)
        .args([
            "tokens",
            "create",
            "--person",
            "Personne (fictive)",
            "--organisation",
            organisation,
            "--role",
            role,
        ])
        .args(extra)
        .output()
        .expect("run engagements")
}

#[cfg(unix)]
#[tokio::test]
async fn init_creates_the_sqlite_file_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = testing::sqlite();
    run_ok(&db, &["init"]);
    let path = db.url.trim_start_matches("sqlite://");
    let mode = |file: &str| {
        std::fs::metadata(file)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    };
    assert_eq!(mode(path), Some(0o600), "{path}");
    // The write-ahead log, when it is still there, takes the database file's mode.
    if let Some(wal) = mode(&format!("{path}-wal")) {
        assert_eq!(wal, 0o600, "{path}-wal");
    }
}

#[tokio::test]
async fn tokens_create_refuses_an_organisation_outside_the_referential() {
    let db = testing::sqlite();
    let before_init = tokens_create(&db, "cabbalr", "admin", &[]);
    assert_eq!(before_init.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&before_init.stderr).contains("engagements init"));

    run_ok(&db, &["init"]);
    let unknown = tokens_create(&db, "cabbalr-typo", "admin", &[]);
    assert_eq!(unknown.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("'cabbalr-typo'"), "{stderr}");
    assert!(
        stderr.contains("engagements referential organisations"),
        "{stderr}"
    );
    assert!(unknown.stdout.is_empty(), "no secret is printed");

    // --external is for the roles that write nothing.
    let writer = tokens_create(&db, "crc-hauts-de-france", "instructeur", &["--external"]);
    assert_eq!(writer.status.code(), Some(1));
    let listed = run_ok(&db, &["tokens", "list"]);
    assert!(
        listed.stdout.is_empty(),
        "a refused token was created: {listed:?}"
    );

    let auditor = tokens_create(&db, "crc-hauts-de-france", "auditeur", &["--external"]);
    assert!(auditor.status.success(), "{auditor:?}");
    let known = tokens_create(&db, "pas-de-calais-habitat", "bailleur", &[]);
    assert!(known.status.success(), "{known:?}");
    let listed = String::from_utf8_lossy(&run_ok(&db, &["tokens", "list"]).stdout).into_owned();
    assert_eq!(listed.lines().count(), 2, "{listed}");
}

#[tokio::test]
async fn apply_refuses_repeated_keys_loose_amounts_far_or_impossible_dates_and_control_characters()
{
    const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000e6e01";
    for db in backends().await {
        let backend = db.backend;
        run_ok(&db, &["init"]);
        let porteur = format!(
            r#"{{"command":"register_porteur","porteur_id":"{PORTEUR}","name":"Association (fictive)","kind":"association"}}"#
        );
        run_ok(&db, &["apply", &write_lines(&[&porteur])]);
        let envelope = |amount: &str| {
            format!(
                r#"{{"command":"open_envelope","financeur":"etat","dispositif":"bop147","exercice":2025,"amount":{amount}}}"#
            )
        };
        let cases: Vec<(String, &str)> = vec![
            (
                format!(
                    r#"{{"command":"register_porteur","porteur_id":"{PORTEUR}","name":"A","name":"B","kind":"association"}}"#
                ),
                "duplicate field \"name\"",
            ),
            (envelope(r#""1_000""#), "'1_000' is not an amount"),
            (envelope(r#"" 12 ""#), "' 12 ' is not an amount"),
            (envelope(r#""12.""#), "'12.' is not an amount"),
            (envelope(r#"".5""#), "'.5' is not an amount"),
            (
                format!(
                    r#"{{"command":"sign_contrat_engagement_republicain","porteur_id":"{PORTEUR}","signed_on":"0000-01-01"}}"#
                ),
                "signed_on: date 0000-01-01 is outside",
            ),
            (
                r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e6e02","name":"X","kind":"association","meta":{"effective_date":"9999-12-31"}}"#.to_string(),
                "meta.effective_date: date 9999-12-31 is outside",
            ),
            (
                format!(
                    r#"{{"command":"sign_contrat_engagement_republicain","porteur_id":"{PORTEUR}","signed_on":"2025-02-30"}}"#
                ),
                "line 1: refused: signed_on: '2025-02-30' is not a date: 2025-02 has 28 days",
            ),
            (
                r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e6e03","name":"Asso\u001b[2J","kind":"association"}"#.to_string(),
                "name: control character U+001B",
            ),
        ];
        let head_before = head(&db).await;
        for (line, expected) in cases {
            let output = engagements(&db)
                .args(["apply", &write_lines(&[&line])])
                .output()
                .expect("run apply");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{backend}: accepted {line}");
            assert!(stderr.contains(expected), "{backend}: {line}\n{stderr}");
            assert!(
                !stderr.contains('\u{1b}'),
                "{backend}: raw escape on stderr"
            );
        }
        assert_eq!(
            head(&db).await,
            head_before,
            "{backend}: something was recorded"
        );
    }
}

async fn head(db: &TestDb) -> i64 {
    let store = engagements_store::Store::open(&db.url).await.expect("open");
    let position = store.head().await.expect("head").map_or(0, |h| h.position);
    store.shutdown().await;
    position
}

fn write_lines(lines: &[&str]) -> String {
    let path =
        std::env::temp_dir().join(format!("engagements-lines-{}.jsonl", uuid::Uuid::now_v7()));
    std::fs::write(&path, lines.join("\n")).expect("write the commands file");
    path.display().to_string()
}
