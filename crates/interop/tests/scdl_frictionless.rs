//! The SCDL subventions export checked by a real Table Schema validator (Python frictionless),
//! and the schema's own example files behaving as the schema says.
//!
//! The validator is `validate_table_schema.py` beside this file; `.ci/install` installs
//! frictionless. Without python3 or frictionless the test is skipped with a message, except under
//! `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use engagements_domain::porteur::{Rna, Siret};
use engagements_domain::Amount;
use engagements_interop::export::scdl::{scdl_rows, write_scdl_csv, Attribuant, GrantFacts};

fn anchors() -> PathBuf {
    // CI runs with a copy of shared/ beside the clone.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/anchors/scdl")
}

fn schema() -> PathBuf {
    anchors().join("schema-subventions-v2.1.1.json")
}

fn draft_schema() -> PathBuf {
    anchors().join("schema-subventions-datasubvention-proposal-2024-09.json")
}

/// `Some(valid)` from the validator, `None` when it cannot run here (skip outside CI).
fn validate(file: &Path, strict: bool) -> Option<(bool, String)> {
    validate_against(&schema(), file, strict)
}

/// [`validate`] against another schema.
fn validate_against(schema: &Path, file: &Path, strict: bool) -> Option<(bool, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_table_schema.py");
    let mut command = Command::new("python3");
    command.arg(&script).arg(schema).arg(file);
    if strict {
        command.arg("--strict");
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let output = match command.output() {
        Ok(output) => output,
        Err(error) if !in_ci => {
            eprintln!("skipping the SCDL validation: python3 cannot run ({error})");
            return None;
        }
        Err(error) => panic!("python3 is required in CI: {error}"),
    };
    let report = String::from_utf8_lossy(&output.stdout).to_string();
    match output.status.code() {
        Some(0) => Some((true, report)),
        Some(1) => Some((false, report)),
        _ if !in_ci => {
            eprintln!(
                "skipping the SCDL validation: {report}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            None
        }
        _ => panic!(
            "the validator must run in CI: {report}{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

fn siret(text: &str) -> Siret {
    Siret::try_from(text.to_string()).unwrap()
}

/// Fictitious grants covering each shape of row: SIRET only, RNA only, both, unpaid, paid once,
/// paid in instalments, cents, a comma and quotes in the text.
fn fictitious_grants() -> Vec<GrantFacts> {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let base = GrantFacts {
        dossier_id: "dossier-fictif-1".into(),
        beneficiary_name: "Association Les Ateliers du Quartier (fictive)".into(),
        beneficiary_siret: Some(siret("12345678900015")),
        beneficiary_rna: None,
        objet: "Atelier d'écriture, quartier du Mont-Liébaut".into(),
        amount: Amount::euros(24_000),
        convention_signed_on: Some(day(2025, 4, 2)),
        reference_decision: "CONV-2025-017".into(),
        payments: vec![],
        exercice: 2025,
        ..GrantFacts::default()
    };
    let mut rna_only = base.clone();
    rna_only.dossier_id = "dossier-fictif-2".into();
    rna_only.beneficiary_siret = None;
    rna_only.beneficiary_rna = Some(Rna::try_from("W623001234".to_string()).unwrap());
    rna_only.amount = Amount::from_cents(1_250_050).unwrap();
    rna_only.payments = vec![day(2025, 5, 6)];
    let mut both = base.clone();
    both.dossier_id = "dossier-fictif-3".into();
    both.beneficiary_rna = Some(Rna::try_from("W623009876".to_string()).unwrap());
    both.objet = "Médiation \"sociale\", soirée; jeunesse".into();
    both.payments = vec![day(2025, 6, 1), day(2026, 2, 27)];
    vec![base, rna_only, both]
}

#[test]
fn the_export_validates_against_the_official_schema() {
    let attribuant = Attribuant {
        name: "Communauté d'Agglomération Béthune-Bruay, Artois Lys Romane".into(),
        siret: siret("20004143300018"),
    };
    let rows = scdl_rows(&attribuant, &fictitious_grants()).unwrap();
    let file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    write_scdl_csv(&rows, std::fs::File::create(file.path()).unwrap()).unwrap();
    let Some((valid, report)) = validate(file.path(), true) else {
        return;
    };
    assert!(
        valid,
        "{report}\n{}",
        std::fs::read_to_string(file.path()).unwrap()
    );
}

#[test]
fn the_schema_examples_behave_as_the_schema_says() {
    let Some((valid, report)) = validate(&anchors().join("v2.1.1_exemple_valide.csv"), false)
    else {
        return;
    };
    assert!(valid, "the valid example must pass: {report}");
    for invalid in [
        "v2.1.1_exemple_invalide_erreurs_cellules.csv",
        "v2.1.1_exemple_invalide_erreurs_colonnes.csv",
        "v2.1.1_exemple-duplicate-column.csv",
    ] {
        let (valid, report) = validate(&anchors().join(invalid), false).unwrap();
        assert!(!valid, "{invalid} must fail: {report}");
    }
    // The valid example's row 26 has the period 2017-03-02/2017-30-05: the schema's regular
    // expression lets it through, the strict check (real dates) does not.
    let (valid, report) = validate(&anchors().join("v2.1.1_exemple_valide.csv"), true).unwrap();
    assert!(!valid && report.contains("not a real date"), "{report}");
}

/// The fictitious demo ledger, exported for each financeur that granted in 2025, validates on both
/// backends; grants that cannot be published are left out with their reason, never silently.
#[tokio::test]
async fn the_export_of_the_demo_validates_against_the_official_schema() {
    use engagements_app::demo::{self, DemoConfig};
    use engagements_app::{Ledger, MetaDefaults};
    use engagements_domain::{Actor, Source};
    use engagements_interop::export::datasubvention::write_datasubvention_csv;
    use engagements_interop::export::scdl::scdl_rows_publishable;
    use engagements_interop::export::scdl_source::{attribuant, scdl_grants};

    for db in engagements_store::testing::all().await {
        eprintln!("backend: {}", db.backend);
        let ledger = Ledger::open(&db.url).await.unwrap();
        let defaults = MetaDefaults {
            actor: Actor::new("Agent démo", "cabbalr"),
            source: Source::Demo,
            today: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        };
        let config = DemoConfig {
            dossiers_per_year: 40,
            ..DemoConfig::default()
        };
        demo::run(&ledger, &config, &defaults, |_, _| {})
            .await
            .unwrap();
        let mut rows_total = 0;
        for organisation in ["etat", "cabbalr"] {
            let who = {
                let projections = ledger.projections().await.unwrap();
                attribuant(&projections, organisation, Some("20004143300018")).unwrap()
            };
            let grants = scdl_grants(&ledger, organisation, 2025).await.unwrap();
            let (rows, left_out) = scdl_rows_publishable(&who, &grants).unwrap();
            assert_eq!(rows.len() + left_out.len(), grants.len());
            rows_total += rows.len();
            // A grant paid in several payments, or with its solde to come, is échelonné.
            let mut staggered = 0;
            for (grant, row) in grants
                .iter()
                .filter(|g| engagements_interop::export::scdl::scdl_row(&who, g).is_ok())
                .zip(&rows)
            {
                let several = grant.payments.len() > 1 || grant.balance_due;
                assert_eq!(row.0[10] == "échelonné", several, "{grant:?} {row:?}");
                staggered += usize::from(several);
            }
            if organisation == "etat" {
                assert!(
                    staggered > 0,
                    "the demo pays State grants in an avance and a solde"
                );
            }
            let file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
            write_scdl_csv(&rows, std::fs::File::create(file.path()).unwrap()).unwrap();
            let draft = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
            let written = write_datasubvention_csv(
                &who,
                &grants,
                std::fs::File::create(draft.path()).unwrap(),
            )
            .unwrap();
            assert_eq!(written, rows.len());
            let Some((valid, report)) = validate(file.path(), true) else {
                return;
            };
            assert!(valid, "{organisation}: {report}");
            let (valid, report) = validate_against(&draft_schema(), draft.path(), true).unwrap();
            assert!(valid, "{organisation}, Data.Subvention draft: {report}");
        }
        assert!(rows_total > 0, "the demo grants something in 2025");
        ledger.store().shutdown().await;
    }
}
