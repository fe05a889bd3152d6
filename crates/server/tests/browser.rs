//! The pages on the fictitious demo data (the same as `engagements demo`, TFPB included):
//!
//! - a browser test: headless Chromium loads the dashboard, a dossier page and a bailleur's TFPB
//!   page of a running server, checks their content, and keeps a screenshot of each under
//!   `target/screenshots/` (under `docs/screenshots/` with `UPDATE_SCREENSHOTS=1`, so that a test
//!   run leaves the checkout as it was). Chromium is Debian's `chromium` package (installed by `.ci/install`);
//!   without it the test is skipped with a message, except under `CI=true`, where it fails.
//! - a measurement of how long the pages take to load, printed (never asserted: timings depend on
//!   the machine); docs/http.md records the figures.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use chrono::NaiveDate;
use engagements_app::demo::{self, DemoConfig};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_server::{router, AppState, ServerConfig};
use engagements_store::testing;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The bailleur whose session the browser uses.
const BAILLEUR: &str = "pas-de-calais-habitat";

fn screenshots_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        root.join("docs/screenshots")
    } else {
        root.join("target/screenshots")
    }
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

/// A server on the demo data, every request carrying the session cookie of a bailleur's web session
/// (the browser cannot log in by itself in headless dump mode).
struct DemoServer {
    address: SocketAddr,
    dossier: String,
    dossier_title: String,
    /// The last position of the demo log.
    position_last: i64,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn demo_server() -> DemoServer {
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    let defaults = MetaDefaults {
        actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
        source: Source::Demo,
        today: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
    };
    let started = Instant::now();
    demo::run(&ledger, &DemoConfig::default(), &defaults, |_, _| {})
        .await
        .unwrap();
    engagements_app::demo_tfpb::record_tfpb_demo(&ledger, DemoConfig::default().seed, &defaults)
        .await
        .unwrap();
    eprintln!("demo recorded in {:?}", started.elapsed());
    let token = ledger
        .store()
        .create_token("Chargée TFPB (fictive)", BAILLEUR, "bailleur")
        .await
        .unwrap()
        .record;
    let sessions = ServerConfig::default().sessions;
    let session = ledger
        .store()
        .open_session(token.token_id, sessions.limits())
        .await
        .unwrap()
        .id;
    let (dossier, dossier_title) = {
        let projections = ledger.projections().await.unwrap();
        let granted = projections
            .subsidy
            .filed(None)
            .find(|d| !d.granted_total().is_zero())
            .expect("a granted dossier in the demo");
        let filing = granted.filed.as_ref().unwrap();
        (filing.dossier_id.to_string(), filing.title.clone())
    };
    let position_last = ledger
        .store()
        .head()
        .await
        .unwrap()
        .map(|h| h.position)
        .unwrap_or(0);
    let cookie = HeaderValue::from_str(&format!("engagements_session={session}")).unwrap();
    let app = router(AppState::new(ledger.clone(), ServerConfig::default())).layer(
        axum::middleware::map_request(move |mut request: Request| {
            let cookie = cookie.clone();
            async move {
                request.headers_mut().insert(header::COOKIE, cookie);
                request
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        ledger.store().shutdown().await;
        drop(db);
    });
    DemoServer {
        address,
        dossier,
        dossier_title,
        position_last,
        stop,
        task,
    }
}

/// GET `path`, returning the status line's code and the time to the last byte.
fn timed_get(address: SocketAddr, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let elapsed = started.elapsed();
    let head = String::from_utf8_lossy(&raw[..raw.len().min(20)]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_the_dashboard_a_dossier_and_the_tfpb_page() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{CHROMIUM} is required in CI: .ci/install installs Debian's chromium package");
        }
        eprintln!("skipping the browser test: {CHROMIUM} is missing (apt-get install chromium)");
        return;
    }
    let server = demo_server().await;
    let base = format!("http://{}", server.address);
    std::fs::create_dir_all(screenshots_dir()).unwrap();
    let escaped_title = server
        .dossier_title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let pages = [
        (
            "dashboard",
            format!("{base}/tableau-de-bord?exercice=2025"),
            vec![
                "Tableau de bord — exercice 2025".to_string(),
                "Crédits du Budget Opérationnel du Programme n°147".to_string(),
                "<svg".to_string(),
                "Montants accordés par exercice et par financeur".to_string(),
            ],
        ),
        (
            "dossier",
            format!("{base}/dossiers/{}", server.dossier),
            vec![escaped_title, "Chronologie".to_string()],
        ),
        (
            "tfpb",
            format!("{base}/tfpb"),
            vec![
                "Abattement TFPB — Pas-de-Calais habitat".to_string(),
                "<svg".to_string(),
                format!("href=\"/tfpb?bailleur={BAILLEUR}\">Pas-de-Calais habitat</a></td>"),
                "fictive".to_string(),
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
            assert!(html.contains(&text), "{name}: '{text}' missing from {html}");
        }
        if name == "tfpb" {
            assert!(!html.contains(">sia-habitat</a>"), "another bailleur shown");
        }
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
    let _ = server.stop.send(());
    server.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_load_times_on_the_demo_data() {
    const LOADS: usize = 7;
    let server = demo_server().await;
    let address = server.address;
    let dossier = server.dossier.clone();
    let halfway = server.position_last / 2;
    let figures = tokio::task::spawn_blocking(move || {
        let paths = [
            "/tableau-de-bord?exercice=2025".to_string(),
            "/dossiers?exercice=2025".to_string(),
            format!("/dossiers/{dossier}"),
            "/signataires/etat".to_string(),
            "/quartiers/QN06204".to_string(),
            "/objectifs/1".to_string(),
            "/vues/quartiers?exercice=2025".to_string(),
            "/tfpb".to_string(),
            format!("/tableau-de-bord?exercice=2025&at_position={halfway}"),
        ];
        let mut out = Vec::new();
        for path in paths {
            let mut times: Vec<Duration> = (0..LOADS)
                .map(|_| {
                    let (status, time) = timed_get(address, &path);
                    assert_eq!(status, 200, "{path}");
                    time
                })
                .collect();
            times.sort();
            out.push((path, times[LOADS / 2], times[LOADS - 1]));
        }
        out
    })
    .await
    .unwrap();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("page load times on the demo data ({profile} build, {LOADS} loads each):");
    println!("| page | median | slowest |");
    println!("|---|---|---|");
    for (path, median, slowest) in figures {
        println!(
            "| `{path}` | {:.1} ms | {:.1} ms |",
            median.as_secs_f64() * 1000.0,
            slowest.as_secs_f64() * 1000.0
        );
    }
    let _ = server.stop.send(());
    server.task.await.unwrap();
}
