//! The commands `docs/imports.md` and `docs/exports.md` show run as written, in the order shown,
//! on a new ledger, from a directory that sees the repository's `docs/` and `crates/` as the
//! root does: every `engagements …` line of their `sh` blocks succeeds, and a comment line that
//! follows a command and begins with the command's file (`# docs/examples/…: 3 rows imported…`)
//! is found in its output. Lines marked `# needs RabbitMQ` are left to the relay's own tests.

use std::path::{Path, PathBuf};

use engagements_e2e::{backends, engagements};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `engagements` command lines of a page's `sh` blocks, each with the comment lines that
/// follow it.
fn commands(page: &str) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(repository().join(page)).unwrap();
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_sh = false;
    // A command continued over several lines with `\` is one command.
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let line = line.trim();
        if let Some(comment) = line.strip_prefix("# ") {
            if let Some((_, expected)) = found.last_mut() {
                expected.push(comment.to_string());
            }
        } else if line.starts_with("engagements ") && !line.contains("needs RabbitMQ") {
            let command = line.split(" # ").next().unwrap_or(line).trim();
            found.push((command.to_string(), Vec::new()));
        }
    }
    found
}

#[tokio::test]
async fn the_commands_of_the_import_and_export_pages_run_as_written() {
    let mut all = commands("docs/imports.md");
    all.extend(commands("docs/exports.md"));
    assert!(all.len() >= 10, "{all:?}");
    assert_eq!(
        all[0].0, "engagements init",
        "the pages start from a new ledger"
    );
    for db in backends().await {
        let dir = tempfile_dir();
        for name in ["docs", "crates"] {
            std::os::unix::fs::symlink(repository().join(name), dir.join(name)).unwrap();
        }
        for (command, expected) in &all {
            let words = shell_words(command);
            let words: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
            let output = engagements(&db)
                .args(&words)
                .current_dir(&dir)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success(),
                "`{command}` failed on {}: {stderr}\n{stdout}",
                db.backend
            );
            let file = words.iter().find(|w| w.contains('/'));
            for line in expected {
                if file.is_some_and(|f| line.starts_with(&format!("{f}:"))) {
                    assert!(
                        stdout.contains(line.as_str()),
                        "`{command}`: {line} not in {stdout}"
                    );
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The words of a shell command line: spaces separate them, double quotes keep them together.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut started) = (false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("docs-commands-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
