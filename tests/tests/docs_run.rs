//! The shell blocks of the README and of every page of `docs/` run as written, in the order
//! shown: each page's ` ```sh ` blocks make one `bash -e` script, run as a newcomer would, from
//! a fresh directory (so on a new embedded ledger, `./engagements.db`) that sees the repository's
//! `docs/`, `crates/` and `schemas/` as the root does, with the `engagements` binary under test
//! first on `PATH`.
//!
//! Not run, because a test cannot or should not: `cargo` lines (the README's own commands, the
//! benchmarks), lines marked `# needs RabbitMQ` (the relay's own tests run them) and lines marked
//! `# runs until stopped`. Synopses with placeholders are written in ` ```text ` blocks instead.
//! `docs/imports.md` and `docs/exports.md` are run by `docs_commands.rs`, which also checks
//! their outputs.

use std::path::{Path, PathBuf};
use std::process::Command;

use engagements_e2e::engagements_bin;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Markers of a line a test does not run.
const NOT_RUN: &[&str] = &["# needs RabbitMQ", "# runs until stopped"];

/// The page's `sh` blocks as one script, lines a test does not run replaced by `:`.
fn script(page: &str) -> String {
    let text = std::fs::read_to_string(repository().join(page)).unwrap();
    let mut script = String::new();
    let mut in_sh = false;
    let mut heredoc_end: Option<String> = None;
    // A command continued over several lines with `\` is one command.
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        if let Some(end) = &heredoc_end {
            script.push_str(line);
            script.push('\n');
            if line.trim() == end {
                heredoc_end = None;
            }
            continue;
        }
        let trimmed = line.trim();
        // Indented blocks belong to a list item (e.g. the bundle's checks, run on a bundle by
        // `crates/cli/tests/audit.rs`); only the page's own blocks are run here.
        if line.starts_with("```") {
            in_sh = trimmed == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if trimmed.starts_with("cargo ") || NOT_RUN.iter().any(|m| line.contains(m)) {
            script.push_str(": not run here\n");
            continue;
        }
        if let Some((_, rest)) = trimmed.split_once("<<'") {
            heredoc_end = rest.split('\'').next().map(str::to_string);
        }
        script.push_str(trimmed);
        script.push('\n');
    }
    script
}

/// The pages this test runs: the README and every page of `docs/` but the two
/// `docs_commands.rs` runs.
fn pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(repository().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "imports.md" && name != "exports.md")
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn fresh_dir(page: &str) -> PathBuf {
    let name = page.replace(['/', '.'], "-");
    let dir = std::env::temp_dir().join(format!(
        "engagements-docs-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for shared in ["docs", "crates", "schemas"] {
        std::os::unix::fs::symlink(repository().join(shared), dir.join(shared)).unwrap();
    }
    dir
}

#[test]
fn every_shell_block_of_the_docs_runs_as_written() {
    let bin_dir = engagements_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for page in pages() {
        let script = script(&page);
        if !script.lines().any(|l| l.starts_with("engagements")) {
            continue;
        }
        let dir = fresh_dir(&page);
        let output = Command::new("bash")
            .args(["-e", "-o", "pipefail", "-x", "-c"])
            .arg(format!(
                "trap 'jobs -p | xargs -r kill 2>/dev/null' EXIT\n{script}"
            ))
            .current_dir(&dir)
            .env("PATH", &path)
            .env_remove("ENGAGEMENTS_DB")
            .env_remove("ENGAGEMENTS_KEY")
            .env("ENGAGEMENTS_ACTOR", "Lecteur de la documentation")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{page}: a command failed as written (its trace ends the output below)\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let _ = std::fs::remove_dir_all(&dir);
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} pages have commands");
}
