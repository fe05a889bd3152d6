//! A browser test: headless Chromium loads the dashboard and a dossier page of a running server
//! with fictitious demo data, checks their content, and keeps a screenshot of each under
//! `docs/screenshots/`. Chromium is Debian's `chromium` package (installed by `.ci/install`);
//! without it the test is skipped with a message, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandLine, Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_server::{AppState, ServerConfig};
use engagements_store::testing;

const CHROMIUM: &str = "/usr/bin/chromium";
const DOSSIER: &str = "0190f2a0-0000-7000-8000-00000000d001";

/// Fictitious data (labelled so): one porteur, two envelopes, two dossiers, decisions.
fn demo_commands() -> Vec<String> {
    let porteur = "0190f2a0-0000-7000-8000-00000000a001";
    vec![
        format!(r#"{{"command":"register_porteur","porteur_id":"{porteur}","name":"Association fictive « Les Jardins <du> Quartier »","kind":"association"}}"#),
        r#"{"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"250000.00"}"#.to_string(),
        r#"{"command":"open_envelope","financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","exercice":2025,"amount":"120000.00"}"#.to_string(),
        format!(r#"{{"command":"file_dossier","dossier_id":"{DOSSIER}","porteur_id":"{porteur}","exercice":2025,"title":"Jardins partagés (exemple fictif)","total_budget":"42000.00","quartiers":[{{"quartier":"QN06204"}}],"objectifs":[{{"objectif":1}}],"requests":[{{"financeur":"etat","dispositif":"bop147-aap","amount":"15000.00"}},{{"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"9000.00"}}]}}"#),
        format!(r#"{{"command":"decide_subsidy","dossier_id":"{DOSSIER}","financeur":"etat","decision":{{"outcome":"granted","amount":"12000.00"}},"comite":"CF-2025-01 (fictif)","decided_on":"2025-03-12","meta":{{"effective_date":"2025-03-12"}}}}"#),
        format!(r#"{{"command":"decide_subsidy","dossier_id":"{DOSSIER}","financeur":"cabbalr","decision":{{"outcome":"granted","amount":"9000.00"}},"comite":"CF-2025-01 (fictif)","decided_on":"2025-03-12","meta":{{"effective_date":"2025-03-12"}}}}"#),
    ]
}

fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_the_dashboard_and_a_dossier() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{CHROMIUM} is required in CI: .ci/install installs Debian's chromium package");
        }
        eprintln!("skipping the browser test: {CHROMIUM} is missing (apt-get install chromium)");
        return;
    }
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    let defaults = MetaDefaults {
        actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
        source: Source::Demo,
        today: NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
    };
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults)
        .await
        .unwrap();
    for line in demo_commands() {
        let line = CommandLine::parse(&line).unwrap();
        ledger
            .execute(line.command, &line.meta, &defaults)
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let config = ServerConfig {
        public_views: true,
        ..ServerConfig::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(engagements_server::serve(
        listener,
        AppState::new(ledger, config),
        async move {
            let _ = stopped.await;
        },
    ));
    let base = format!("http://{address}");
    std::fs::create_dir_all(screenshots_dir()).unwrap();
    let pages = [
        (
            "dashboard",
            format!("{base}/tableau-de-bord?exercice=2025"),
            vec![
                "Tableau de bord — exercice 2025",
                "bop147-aap",
                "<svg",
                "12\u{202f}000,00 €",
            ],
        ),
        (
            "dossier",
            format!("{base}/dossiers/{DOSSIER}"),
            vec![
                "Jardins partagés (exemple fictif)",
                "Chronologie",
                "Subvention accordée",
                "CF-2025-01 (fictif)",
                "&lt;du&gt;",
            ],
        ),
    ];
    for (name, url, expected) in pages {
        let (dom, shot) = tokio::task::spawn_blocking(move || {
            let profile = tempfile::tempdir().unwrap();
            let dom = chromium(&["--dump-dom", &url], profile.path());
            let path = screenshots_dir().join(format!("{name}.png"));
            let shot = chromium(
                &[
                    &format!("--screenshot={}", path.display()),
                    "--window-size=1280,1400",
                    &url,
                ],
                profile.path(),
            );
            (dom, (shot, path))
        })
        .await
        .unwrap();
        let html = String::from_utf8_lossy(&dom.stdout);
        assert!(
            dom.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&dom.stderr)
        );
        for text in expected {
            assert!(html.contains(text), "{name}: '{text}' missing from {html}");
        }
        assert!(!html.contains("<du>"), "{name}: a name was not escaped");
        let (shot, path) = shot;
        assert!(
            shot.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&shot.stderr)
        );
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "{name}: screenshot {} is {size} bytes",
            path.display()
        );
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
