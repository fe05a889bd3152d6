//! The workbooks the commands write for people (`--format xlsx --out FILE`), read back as a
//! spreadsheet reads them: French sheet names and headers, amounts as numbers in euros, dates as
//! dates. `history`, `findings` and `referential` take `--out` like `report`.

use std::path::Path;
use std::process::{Command, Output};

use calamine::{Data, Reader, Xlsx};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_engagements"))
        .current_dir(dir)
        .env(
            "ENGAGEMENTS_DB",
            format!("sqlite://{}", dir.join("l.db").display()),
        )
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) {
    let output = run(dir, args);
    assert!(
        output.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The first sheet of a workbook: its name, header and rows.
fn first_sheet(path: &Path) -> (String, Vec<String>, Vec<Vec<Data>>) {
    let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    let mut rows = range.rows();
    let header = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    (name, header, rows.map(<[Data]>::to_vec).collect())
}

fn column(header: &[String], label: &str) -> usize {
    header
        .iter()
        .position(|h| h == label)
        .unwrap_or_else(|| panic!("no column « {label} » in {header:?}"))
}

#[test]
fn workbooks_for_people_read_back_in_french_with_numbers_and_dates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    for file in ["envelopes-2025.jsonl", "first-dossier.jsonl"] {
        ok(d, &["apply", examples.join(file).to_str().unwrap()]);
    }

    ok(
        d,
        &[
            "report",
            "dossiers",
            "--year",
            "2025",
            "--format",
            "xlsx",
            "--out",
            "dossiers.xlsx",
        ],
    );
    let (sheet, header, rows) = first_sheet(&d.join("dossiers.xlsx"));
    assert!(!sheet.contains('_'), "sheet « {sheet} »");
    assert!(header.iter().all(|h| !h.contains('_')), "{header:?}");
    assert_eq!(rows.len(), 1, "one dossier in the example");
    let granted = column(&header, "Accordé (€)");
    assert_eq!(rows[0][granted], Data::Float(12_000.0));

    // The trail an auditor keeps: dates are dates, descriptions are French.
    ok(
        d,
        &[
            "history",
            "0190f2a0-0000-7000-8000-0000000000d1",
            "--format",
            "xlsx",
            "--out",
            "historique.xlsx",
        ],
    );
    let (sheet, header, rows) = first_sheet(&d.join("historique.xlsx"));
    assert_eq!(sheet, "Historique");
    assert!(header.iter().all(|h| !h.contains('_')), "{header:?}");
    assert!(rows.len() >= 2, "filed and decided at least");
    let effective = column(&header, "Date d'effet");
    assert!(
        rows.iter()
            .all(|r| matches!(r[effective], Data::DateTime(_))),
        "{:?}",
        rows.iter().map(|r| &r[effective]).collect::<Vec<_>>()
    );

    for (args, file) in [
        (&["findings"][..], "constats.xlsx"),
        (&["referential", "quartiers"][..], "quartiers.xlsx"),
    ] {
        let mut all = args.to_vec();
        all.extend(["--format", "xlsx", "--out", file]);
        ok(d, &all);
        let (sheet, header, _) = first_sheet(&d.join(file));
        assert!(!sheet.contains('_'), "{file}: sheet « {sheet} »");
        assert!(
            header.iter().all(|h| !h.contains('_')),
            "{file}: {header:?}"
        );
    }
}
