//! Report latency over HTTP under concurrent load: the server of `engagements serve` on a
//! ledger of N events (the seeded workload), and N clients on keep-alive connections asking the
//! comité's views (signataires, quartiers, objectifs of an exercice) in a loop, p50/p99 per load.
//!
//! Each load is measured twice: reads only, and reads while commands are recorded at a steady
//! rate beside them. Every event moves the projections on, so the first request of each view
//! after it builds its table again; the others are served the table built at that position.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use engagements_app::snapshots::SnapshotPolicy;
use engagements_app::Ledger;
use engagements_server::{AppState, ServerConfig};
use engagements_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::append::drive;
use crate::databases::{BackendKind, Databases};
use crate::decider::Decider;
use crate::readside::{self, ReadsideSettings};
use crate::stats::{Figure, Latencies};
use crate::workload::{Rng, Workload};

/// Settings of the HTTP run.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub events: usize,
    pub backend: BackendKind,
    pub clients: Vec<usize>,
    pub seconds: f64,
    /// Commands recorded per second beside the readers in the second measurement of each load.
    pub writes_per_second: f64,
    pub seed: u64,
}

/// The views asked, as a comité member's browser asks them.
const VIEWS: [&str; 3] = ["signataires", "quartiers", "objectifs"];

/// Loads the ledger, serves it on a local port, then measures each load.
pub async fn run(
    settings: &HttpSettings,
    databases: &Databases,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let db = databases.fresh(settings.backend, "http").await?;
    let store = Store::open(&db.url).await?;
    let loading = ReadsideSettings::load_only(settings.events, settings.backend, settings.seed);
    readside::load(&store, &loading, progress).await?;
    progress("http: folding the ledger into the server's read model");
    // No snapshot saved while measuring: their encoding would compete with the readers.
    let ledger = Ledger::from_store_with(store.clone(), SnapshotPolicy::NEVER).await?;
    let config = ServerConfig {
        public_views: true,
        ..ServerConfig::default()
    };
    let server = Served::start(ledger, config).await?;
    let address = server.address;
    let mut figures = Vec::new();
    let mut writer_seed = 1_000;
    for &clients in &settings.clients {
        for writes in [0.0, settings.writes_per_second] {
            progress(&format!(
                "http: {clients} clients, {writes} commands/s recorded beside them"
            ));
            writer_seed += 1;
            let duration = Duration::from_secs_f64(settings.seconds);
            let writer = (writes > 0.0).then(|| {
                tokio::spawn(write_steadily(
                    store.clone(),
                    settings.seed,
                    writer_seed,
                    writes,
                    Instant::now() + duration,
                ))
            });
            let seed = settings.seed;
            let (latencies, elapsed) = drive(clients, duration, |index, deadline| {
                read_views(address, seed + index as u64, deadline)
            })
            .await?;
            let written = match writer {
                Some(task) => task.await.context("the writer panicked")??,
                None => 0,
            };
            let system = if writes > 0.0 {
                format!("GET a view, {writes} commands/s recorded meanwhile")
            } else {
                "GET a view, reads only".to_string()
            };
            let mut figure = Figure::throughput(
                "http",
                &system,
                settings.backend.name(),
                clients,
                latencies,
                elapsed,
            );
            figure.note = format!(
                "{} events; {written} commands recorded during the run",
                settings.events
            );
            figures.push(figure);
        }
    }
    server.stop().await?;
    databases.remove(&db).await?;
    Ok(figures)
}

/// The server of `engagements serve` on a free port of the loopback, until [`Served::stop`].
pub(crate) struct Served {
    pub address: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub async fn start(ledger: Ledger, config: ServerConfig) -> anyhow::Result<Served> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(engagements_server::serve(
            listener,
            AppState::new(ledger, config),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Served {
            address,
            stop,
            task,
        })
    }

    /// Stops serving once the requests in flight are answered.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("the server panicked")??;
        Ok(())
    }
}

/// One reader: a keep-alive connection asking random views of random exercices until the
/// deadline; each answer must be 200 with its whole body read.
async fn read_views(
    address: std::net::SocketAddr,
    seed: u64,
    deadline: Instant,
) -> anyhow::Result<Latencies> {
    let mut connection = BufReader::new(TcpStream::connect(address).await?);
    let mut rng = Rng::new(seed);
    let mut latencies = Latencies::default();
    while Instant::now() < deadline {
        let view = VIEWS[rng.between(0, VIEWS.len() as u64 - 1) as usize];
        let year = 2024 + rng.between(0, 6);
        let path = format!("/api/v1/reports/{view}?year={year}");
        let begun = Instant::now();
        get(&mut connection, &path, "Accept: application/json\r\n").await?;
        latencies.record(begun.elapsed());
    }
    Ok(latencies)
}

/// Records the workload's commands at `per_second` until the deadline; returns how many.
async fn write_steadily(
    store: Store,
    seed: u64,
    client: u64,
    per_second: f64,
    deadline: Instant,
) -> anyhow::Result<usize> {
    let mut decider = Decider::default();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    let mut written = 0;
    for item in Workload::new(seed, client) {
        ticks.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        decider.append(&store, item).await?;
        written += 1;
    }
    Ok(written)
}

/// One HTTP/1.1 GET on a kept-alive connection, with `headers` (each ending in CRLF) beside
/// `Host`; returns the body's length. Anything but 200 is an error.
pub(crate) async fn get(
    connection: &mut BufReader<TcpStream>,
    path: &str,
    headers: &str,
) -> anyhow::Result<usize> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n");
    connection.get_mut().write_all(request.as_bytes()).await?;
    let mut line = String::new();
    connection.read_line(&mut line).await?;
    let status = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        connection.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.trim().eq_ignore_ascii_case("chunked");
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            connection.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim(), 16)?;
            let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
            connection.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length = length.context("an answer without Content-Length")?;
        body.resize(length, 0);
        connection.read_exact(&mut body).await?;
    }
    if status != "200" {
        bail!(
            "GET {path} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(body.len())
}
