//! Who recorded what, and what was published, on both backends: the operator of a command is
//! whoever runs it, never what a commands file says (the file says on whose behalf); an SCDL
//! export made for publication is recorded, and clears the `grant-not-published` finding.

use std::path::Path;
use std::process::{Command, Output};

use engagements_store::testing::{self, TestDb};
use engagements_store::Store;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn engagements(dir: &Path, db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_engagements"));
    command
        .current_dir(dir)
        .env("ENGAGEMENTS_DB", db)
        .env("USER", "mdupont")
        .env_remove("ENGAGEMENTS_ACTOR")
        .env_remove("ENGAGEMENTS_ORGANISATION")
        .env_remove("ENGAGEMENTS_ROLE");
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

fn json_of(dir: &Path, db: &str, args: &[&str]) -> Value {
    serde_json::from_str(&ok(dir, db, args)).unwrap()
}

fn register(id: &str, meta: Option<Value>) -> String {
    let mut line = json!({"command": "register_porteur", "porteur_id": id,
        "name": "Association fictive", "kind": "association"});
    if let Some(meta) = meta {
        line["meta"] = meta;
    }
    line.to_string()
}

fn write(dir: &Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

async fn head(db: &str) -> i64 {
    let store = Store::open_existing(db).await.unwrap();
    let head = store.head().await.unwrap().map(|h| h.position).unwrap_or(0);
    store.shutdown().await;
    head
}

/// The one history line of a porteur registered once.
fn trail_of(dir: &Path, db: &str, id: &str) -> Value {
    let trail = json_of(dir, db, &["history", id, "--format", "json"]);
    assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
    trail[0].clone()
}

const DDETS: &str = r#"{"actor": {"person": "Agent DDETS (fictif)", "organisation": "etat"}}"#;

#[tokio::test]
async fn a_file_says_on_whose_behalf_never_who_ran_the_command() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let dir = tempfile::tempdir().unwrap();
        let (d, url) = (dir.path(), db.url.as_str());
        ok(d, url, &["init"]);
        let (on_behalf, plain, named) = (
            "0190f2a0-0000-7000-8000-00000000c101",
            "0190f2a0-0000-7000-8000-00000000c102",
            "0190f2a0-0000-7000-8000-00000000c103",
        );
        let ddets: Value = serde_json::from_str(DDETS).unwrap();
        let file = write(
            d,
            "a.jsonl",
            &[
                register(on_behalf, Some(ddets.clone())),
                register(plain, None),
            ],
        );
        // No --actor: the operator is the system user running the command.
        ok(d, url, &["apply", &file]);
        let line = trail_of(d, url, on_behalf);
        assert_eq!(line["actor"], "utilisateur système mdupont", "{line}");
        assert_eq!(line["organisation"], "cabbalr");
        assert_eq!(line["on_behalf_of"], "Agent DDETS (fictif)");
        assert_eq!(line["on_behalf_of_organisation"], "etat");
        let line = trail_of(d, url, plain);
        assert_eq!(line["actor"], "utilisateur système mdupont", "{line}");
        assert_eq!(line["on_behalf_of"], Value::Null);

        // --actor names the operator; the file still only says on whose behalf.
        let file = write(d, "b.jsonl", &[register(named, Some(ddets))]);
        ok(d, url, &["--actor", "Marie Fictive", "apply", &file]);
        let line = trail_of(d, url, named);
        assert_eq!(line["actor"], "Marie Fictive");
        assert_eq!(line["on_behalf_of"], "Agent DDETS (fictif)");
        // People read both, in French.
        let table = ok(d, url, &["history", named]);
        assert!(
            table.contains("Opérateur (qui a enregistré)") && table.contains("Pour le compte de"),
            "{table}"
        );
        assert!(
            table.contains("Marie Fictive") && table.contains("Agent DDETS (fictif)"),
            "{table}"
        );
        // The stored metadata keeps them apart too.
        let store = Store::open_existing(url).await.unwrap();
        let event = store
            .read_stream(&format!("porteur-{named}"), None)
            .await
            .unwrap()
            .pop()
            .unwrap();
        let behalf = event.metadata.on_behalf_of.unwrap();
        // Both are named by pseudonymous ids (personal data stays out of the chain).
        let ids = [event.metadata.actor.person.clone(), behalf.person.clone()];
        let names = store.persons_by_id(&ids).await.unwrap();
        store.shutdown().await;
        assert_eq!(names[&ids[0]].name.as_deref(), Some("Marie Fictive"));
        assert_eq!(names[&ids[1]].name.as_deref(), Some("Agent DDETS (fictif)"));
        assert_eq!(behalf.organisation, "etat");

        // Below admin, on behalf of another organisation is refused and records nothing.
        let before = head(url).await;
        let other = write(
            d,
            "c.jsonl",
            &[register(
                "0190f2a0-0000-7000-8000-00000000c104",
                Some(json!({"actor": {"person": "Agent CAF (fictif)", "organisation": "caf"}})),
            )],
        );
        let output = run(
            d,
            url,
            &[
                "--role",
                "instructeur",
                "--organisation",
                "etat",
                "apply",
                &other,
            ],
        );
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        assert!(
            text(&output).contains("refused: forbidden"),
            "{}",
            text(&output)
        );
        assert_eq!(head(url).await, before);
    }
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// The `grant-not-published` findings about grants of `financeur` in `exercice`.
fn unpublished(dir: &Path, db: &str, financeur: &str, exercice: i64) -> Vec<String> {
    let found = json_of(dir, db, &["findings", "--format", "json"]);
    found
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule"] == "grant-not-published"
                && f["exercice"] == exercice
                && f["description"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("accordés par {financeur},"))
        })
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect()
}

const SIRET: &str = "73282932000074";

#[tokio::test]
async fn an_export_made_for_publication_is_recorded_and_clears_the_finding() {
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        publication_on(&db).await;
    }
}

async fn publication_on(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (d, url) = (dir.path(), db.url.as_str());
    ok(d, url, &["demo", "--dossiers-per-year", "4"]);
    let before = unpublished(d, url, "etat", 2025);
    assert!(!before.is_empty(), "the demo has grants to publish");
    let export = |extra: &[&str]| -> Output {
        let mut args = vec![
            "export",
            "scdl",
            "--attribuant",
            "etat",
            "--year",
            "2025",
            "--attribuant-siret",
            SIRET,
            "--out",
            "scdl-etat-2025.csv",
        ];
        args.extend_from_slice(extra);
        run(d, url, &args)
    };
    // Exporting alone publishes nothing.
    assert!(export(&[]).status.success());
    assert_eq!(unpublished(d, url, "etat", 2025), before);
    // An instructeur of another financeur may not record etat's publication.
    let head_before = head(url).await;
    let output = run(
        d,
        url,
        &[
            "--role",
            "instructeur",
            "--organisation",
            "caf",
            "export",
            "scdl",
            "--attribuant",
            "etat",
            "--year",
            "2025",
            "--attribuant-siret",
            SIRET,
            "--out",
            "refused.csv",
            "--publish",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("forbidden"), "{}", text(&output));
    assert_eq!(head(url).await, head_before);

    let output = export(&["--publish", "--published-on", "2026-01-15"]);
    assert!(output.status.success(), "{}", text(&output));
    let digest = sha256_hex(&d.join("scdl-etat-2025.csv"));
    assert!(
        text(&output).contains(&format!("SHA-256 {digest}")),
        "{}",
        text(&output)
    );
    assert!(unpublished(d, url, "etat", 2025).is_empty());
    // Other financeurs' and other years' grants are still unpublished.
    assert!(!unpublished(d, url, "etat", 2024).is_empty());

    // The trail of the file tells what, when, and its digest, in French.
    let trail = json_of(
        d,
        url,
        &["history", "scdl-etat-2025.csv", "--format", "json"],
    );
    let line = &trail[0];
    assert_eq!(line["event_type"], "OpenDataPublished");
    assert_eq!(line["effective_date"], "2026-01-15");
    assert_eq!(line["actor"], "utilisateur système mdupont");
    let description = line["description"].as_str().unwrap();
    assert!(
        description.contains("des subventions de etat pour l'exercice 2025")
            && description.contains(&format!("SHA-256 {digest}"))
            && description.contains("publié le 15/01/2026"),
        "{description}"
    );
    let payload: Value = serde_json::from_str(line["payload"].as_str().unwrap()).unwrap();
    let published: Vec<String> = payload["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| format!("dossier-{}", id.as_str().unwrap()))
        .collect();
    for subject in &before {
        assert!(
            published.contains(subject),
            "{subject} not in {published:?}"
        );
    }
    let rows = std::fs::read_to_string(d.join("scdl-etat-2025.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(payload["rows"], rows as i64);

    // The same file the same day is one publication.
    let head_after = head(url).await;
    let output = export(&["--publish", "--published-on", "2026-01-15"]);
    assert!(
        text(&output).contains("publication already recorded"),
        "{}",
        text(&output)
    );
    assert_eq!(head(url).await, head_after);
}

/// Every byte of the database's files (SQLite: the file and its write-ahead log).
fn sqlite_bytes(url: &str) -> Vec<u8> {
    let path = url.trim_start_matches("sqlite://");
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn names_stay_out_of_the_chain_and_erasing_one_leaves_the_chain_verifiable() {
    const OPERATOR: &str = "Quentin Opérateur-Fictif";
    const PRINCIPAL: &str = "Zéphyrine Mandante-Fictive";
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let dir = tempfile::tempdir().unwrap();
        let (d, url) = (dir.path(), db.url.as_str());
        ok(d, url, &["init"]);
        let id = "0190f2a0-0000-7000-8000-00000000c201";
        let meta = json!({"actor": {"person": PRINCIPAL, "organisation": "etat"}});
        let file = write(d, "a.jsonl", &[register(id, Some(meta))]);
        ok(d, url, &["--actor", OPERATOR, "apply", &file]);

        // The chain holds ids only.
        let store = Store::open_existing(url).await.unwrap();
        let rows = store.read_rows(1, 100_000).await.unwrap();
        store.shutdown().await;
        for row in &rows {
            for name in [OPERATOR, PRINCIPAL] {
                assert!(
                    !row.metadata.contains(name) && !row.payload.contains(name),
                    "{name} in the log at {}",
                    row.position
                );
            }
        }
        let line = trail_of(d, url, id);
        assert_eq!(line["actor"], OPERATOR, "{line}");
        assert_eq!(line["on_behalf_of"], PRINCIPAL);
        let principal_id = line["on_behalf_of_id"].as_str().unwrap().to_string();
        assert!(principal_id.starts_with("person-"), "{line}");
        let last = rows.last().unwrap();
        assert!(last.metadata.contains(&principal_id), "{}", last.metadata);
        let listed = ok(d, url, &["persons", "list"]);
        assert!(
            listed.contains(&format!("{principal_id}\t{PRINCIPAL}")),
            "{listed}"
        );
        // A bundle carries the names apart from the log, unless told not to.
        ok(
            d,
            url,
            &[
                "export",
                "audit",
                "--unsigned",
                "--out",
                "b1",
                "--referential",
                "/nonexistent",
            ],
        );
        let persons = std::fs::read_to_string(d.join("b1/persons.csv")).unwrap();
        assert!(
            persons.contains(&format!("{principal_id},{PRINCIPAL},")),
            "{persons}"
        );
        assert!(!std::fs::read_to_string(d.join("b1/events.jsonl"))
            .unwrap()
            .contains(PRINCIPAL));
        ok(
            d,
            url,
            &[
                "export",
                "audit",
                "--unsigned",
                "--out",
                "b2",
                "--referential",
                "/nonexistent",
                "--without-persons",
            ],
        );
        assert!(!d.join("b2/persons.csv").exists());

        // Erasure: the name is gone, the chain is untouched.
        let out = ok(d, url, &["persons", "erase", &principal_id]);
        assert!(out.contains("name erased"), "{out}");
        let line = trail_of(d, url, id);
        assert_eq!(line["on_behalf_of"], "personne effacée", "{line}");
        assert_eq!(line["on_behalf_of_id"], principal_id.as_str());
        assert_eq!(line["actor"], OPERATOR);
        let out = ok(d, url, &["verify"]);
        assert!(out.contains("chain:         OK"), "{out}");
        let store = Store::open_existing(url).await.unwrap();
        assert_eq!(store.read_rows(1, 100_000).await.unwrap(), rows);
        store.shutdown().await;
        let listed = ok(d, url, &["persons", "list"]);
        assert!(!listed.contains(PRINCIPAL), "{listed}");
        assert!(
            listed.contains(&format!("{principal_id}\tpersonne effacée")),
            "{listed}"
        );
        if db.backend == "sqlite" {
            assert!(
                !contains(&sqlite_bytes(url), PRINCIPAL),
                "the erased name is still in the database's files"
            );
            assert!(contains(&sqlite_bytes(url), OPERATOR));
        }
        ok(
            d,
            url,
            &[
                "export",
                "audit",
                "--unsigned",
                "--out",
                "b3",
                "--referential",
                "/nonexistent",
            ],
        );
        let persons = std::fs::read_to_string(d.join("b3/persons.csv")).unwrap();
        assert!(!persons.contains(PRINCIPAL), "{persons}");
        assert!(persons.contains(&format!("{principal_id},,")), "{persons}");

        // Erasing again, or an unknown id, says so.
        let again = run(d, url, &["persons", "erase", &principal_id]);
        assert_eq!(again.status.code(), Some(1), "{}", text(&again));
        // The same name acting later is a new person: the erased id is never given again.
        let later = "0190f2a0-0000-7000-8000-00000000c202";
        let meta = json!({"actor": {"person": PRINCIPAL, "organisation": "etat"}});
        let file = write(d, "b.jsonl", &[register(later, Some(meta))]);
        ok(d, url, &["--actor", OPERATOR, "apply", &file]);
        let line = trail_of(d, url, later);
        assert_eq!(line["on_behalf_of"], PRINCIPAL);
        assert_ne!(line["on_behalf_of_id"], principal_id.as_str());
    }
}
