//! What a person reading a page must never see: snake_case tokens, raw JSON, English values or
//! messages, identifiers that are not links to their page.

use std::collections::BTreeSet;

/// The ids of the contract's organisations and dispositifs that hold a dash
/// (`pas-de-calais-habitat`, `bop147-aap`): shown on a page, they stand where a name belongs.
fn referential_ids() -> &'static BTreeSet<String> {
    static IDS: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        let contract = engagements_app::referential::LoadedContract::embedded().unwrap();
        let r = engagements_projections::referential::ReferentialView::of(contract.referential);
        r.organisations()
            .map(|o| o.id.clone())
            .chain(r.dispositifs().map(|d| d.id.clone()))
            .collect::<Vec<_>>()
            .into_iter()
            .filter(|id| id.contains('-'))
            // Ids that are also words of the contract's own text (« des adultes-relais »).
            .filter(|id| !["adultes-relais", "micro-folies"].contains(&id.as_str()))
            .collect()
    })
}

/// English words that would betray an untranslated value or message on a page.
const ENGLISH: &[&str] = &[
    "granted",
    "requested",
    "refused",
    "withdrawn",
    "paid",
    "due on",
    "not received",
    "submitted",
    "planned",
    "pending",
    "qualitative",
    "financial",
    "below the",
    "above the",
    "forbidden",
    "not found",
    "may not",
    "unknown",
    "the ",
];

/// The visible text of an HTML page, and the texts of its links.
pub fn visible_text(html: &str) -> (String, BTreeSet<String>) {
    let mut text = String::new();
    let mut links = BTreeSet::new();
    let mut rest = html;
    let mut in_link: Option<String> = None;
    let mut skip_depth = 0usize;
    while let Some(start) = rest.find('<') {
        let chunk = &rest[..start];
        if skip_depth == 0 {
            text.push_str(chunk);
            text.push(' ');
            if let Some(link) = in_link.as_mut() {
                link.push_str(chunk);
            }
        }
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '>')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match (name.as_str(), closing) {
            ("style" | "script" | "title", false) => skip_depth += 1,
            ("style" | "script" | "title", true) => skip_depth = skip_depth.saturating_sub(1),
            ("a", false) => in_link = Some(String::new()),
            ("a", true) => {
                if let Some(link) = in_link.take() {
                    links.insert(link.trim().to_string());
                }
            }
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    let text = text
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    (text, links)
}

fn is_snake_case(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
    word.contains('_')
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

fn is_uuid(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_ascii_hexdigit() && c != '-');
    word.len() == 36
        && word.chars().filter(|c| *c == '-').count() == 4
        && word.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// What is wrong with a page's visible text.
pub fn problems(path: &str, html: &str) -> Vec<String> {
    let (text, links) = visible_text(html);
    problems_in(path, &text, &links)
}

/// What is wrong with a page's visible text, given the texts of its links.
pub fn problems_in(path: &str, text: &str, links: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    let ids = referential_ids();
    for word in text.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
        if ids.contains(bare) {
            found.push(format!("{path}: the id « {bare} » where its name belongs"));
        }
        if is_snake_case(word) {
            found.push(format!("{path}: snake_case « {word} »"));
        }
        if is_uuid(word) && !links.iter().any(|l| l.contains(word)) {
            found.push(format!("{path}: identifier « {word} » not linked"));
        }
    }
    if text.contains("{\"") || text.contains("\":") {
        found.push(format!("{path}: raw JSON"));
    }
    let lower = format!(" {} ", text.to_lowercase());
    for english in ENGLISH {
        if lower.contains(&format!(" {english}")) {
            found.push(format!("{path}: English « {english} »"));
        }
    }
    found.sort();
    found.dedup();
    found
}
