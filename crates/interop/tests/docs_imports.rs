//! `docs/imports.md` lists, for every file kind, the titles its header table accepts: the lists
//! are written from the tables themselves (`UPDATE_DOCS=1` rewrites them), so the page and the
//! readers cannot drift apart.

use engagements_interop::import::headers::HeaderTable;
use engagements_interop::import::{crf, etat, programmation, tfpb};

fn tables() -> [(&'static str, &'static HeaderTable); 5] {
    [
        ("programmation", &programmation::TABLE),
        ("tfpb", &tfpb::TABLE),
        ("gispro", &etat::GISPRO_TABLE),
        ("anct", &etat::ANCT_TABLE),
        ("crf", &crf::TABLE),
    ]
}

/// The markdown list of `table`'s columns and their accepted titles.
fn render(table: &HeaderTable) -> String {
    let mut text = String::from("| column | required | titles also accepted |\n|---|---|---|\n");
    for column in table.columns {
        let aliases = if column.aliases.is_empty() {
            "—".to_string()
        } else {
            column
                .aliases
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        text.push_str(&format!(
            "| `{}` | {} | {aliases} |\n",
            column.name,
            if column.required { "yes" } else { "no" }
        ));
    }
    text
}

#[test]
fn the_header_aliases_of_every_file_kind_are_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/imports.md");
    let mut page = std::fs::read_to_string(path).unwrap();
    for (kind, table) in tables() {
        let start = format!("<!-- aliases:{kind} -->\n");
        let end = "<!-- /aliases -->";
        let from = page
            .find(&start)
            .unwrap_or_else(|| panic!("docs/imports.md has no {start:?} block"))
            + start.len();
        let to = from + page[from..].find(end).expect("the block is closed");
        let wanted = render(table);
        if page[from..to] != wanted {
            assert!(
                std::env::var("UPDATE_DOCS").is_ok(),
                "docs/imports.md's {kind} titles are out of date: run UPDATE_DOCS=1 cargo test --workspace --test docs_imports"
            );
            page.replace_range(from..to, &wanted);
        }
    }
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(path, page).unwrap();
    }
}
