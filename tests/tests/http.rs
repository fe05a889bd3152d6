//! End to end over HTTP: the real `engagements serve` on each backend, driven with plain HTTP/1.1
//! requests over TCP. Tokens come from `engagements tokens create`; writes are recorded with the
//! token's person and organisation; roles are enforced; and a command in flight when SIGTERM
//! arrives is finished and recorded before the process exits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::time::Duration;

use engagements_e2e::{backends, engagements, run_ok, TestDb};

/// A running `engagements serve` and the address it listens on.
struct Server {
    child: Child,
    address: SocketAddr,
}

impl Server {
    /// Starts the server on a free port and waits until it says where it listens.
    fn start(db: &TestDb) -> Server {
        let mut child = engagements(db)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start engagements serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server stopped before listening")
                .expect("read stderr");
            if let Some(rest) = line.split("on http://").nth(1) {
                let address = rest.split_whitespace().next().expect("an address");
                break address.parse().expect("a socket address");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, address }
    }

    fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer: status code and body.
struct Answer {
    status: u16,
    body: String,
}

fn read_answer(mut stream: TcpStream) -> Answer {
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Answer {
        status,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn request_head(method: &str, path: &str, token: Option<&str>, body_len: usize) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if body_len > 0 {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {body_len}\r\n"
        ));
    }
    head.push_str("\r\n");
    head
}

fn call(address: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &str) -> Answer {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    stream
        .write_all(request_head(method, path, token, body.len()).as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .expect("send");
    read_answer(stream)
}

fn token(db: &TestDb, person: &str, organisation: &str, role: &str) -> String {
    let mut args = vec![
        "tokens",
        "create",
        "--person",
        person,
        "--organisation",
        organisation,
        "--role",
        role,
    ];
    // The chambre régionale des comptes audits the contract without being one of its signatories.
    if organisation == "crc-hauts-de-france" {
        args.push("--external");
    }
    let output = run_ok(db, &args);
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn porteur(id: &str, name: &str) -> String {
    format!(
        r#"{{"command":"register_porteur","porteur_id":"{id}","name":"{name}","kind":"association"}}"#
    )
}

#[tokio::test]
async fn the_binary_serves_writes_and_stops_gracefully_on_both_backends() {
    for db in backends().await {
        let backend = db.backend;
        run_ok(&db, &["init"]);
        let admin = token(&db, "Équipe CABBALR (fictive)", "cabbalr", "admin");
        let auditeur = token(
            &db,
            "Auditrice (fictive)",
            "crc-hauts-de-france",
            "auditeur",
        );
        let bailleur = token(&db, "Chargé TFPB (fictif)", "sia-habitat", "bailleur");
        let server = Server::start(&db);
        let address = server.address;
        let blocking = tokio::task::spawn_blocking(move || {
            assert_eq!(call(address, "GET", "/healthz", None, "").status, 200);
            let ready = call(address, "GET", "/readyz", None, "");
            assert_eq!(ready.status, 200, "{}", ready.body);

            // The admin writes; the auditeur and a bailleur cannot write a porteur.
            let created = call(
                address,
                "POST",
                "/api/v1/commands",
                Some(&admin),
                &porteur(
                    "0190f2a0-0000-7000-8000-0000000e2e01",
                    "Association e2e (fictive)",
                ),
            );
            assert_eq!(created.status, 201, "{}", created.body);
            for refused_token in [&auditeur, &bailleur] {
                let refused = call(
                    address,
                    "POST",
                    "/api/v1/commands",
                    Some(refused_token),
                    &porteur("0190f2a0-0000-7000-8000-0000000e2e02", "Refusée"),
                );
                assert_eq!(refused.status, 403, "{}", refused.body);
                assert!(refused.body.contains("\"forbidden\""));
            }
            let unknown_field = call(
                address,
                "POST",
                "/api/v1/commands",
                Some(&admin),
                r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e2e03","name":"X","kind":"association","colour":"red"}"#,
            );
            assert_eq!(unknown_field.status, 400, "{}", unknown_field.body);
            let rows = call(
                address,
                "GET",
                "/api/v1/reports/porteurs",
                Some(&auditeur),
                "",
            );
            assert_eq!(rows.status, 200, "{}", rows.body);
            assert!(rows.body.contains("Association e2e (fictive)"));
            assert!(!rows.body.contains("Refusée"));
            let document = call(address, "GET", "/api/v1/openapi.json", None, "");
            assert!(document.body.contains("\"openapi\""));

            // A command in flight when SIGTERM arrives: its head and half its body are sent,
            // then the signal, then the rest. The server finishes it before stopping.
            let body = porteur(
                "0190f2a0-0000-7000-8000-0000000e2e04",
                "Association reçue pendant l'arrêt (fictive)",
            );
            let (first, second) = body.split_at(body.len() / 2);
            let mut stream = TcpStream::connect(address).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .expect("timeout");
            stream
                .write_all(
                    request_head("POST", "/api/v1/commands", Some(&admin), body.len()).as_bytes(),
                )
                .and_then(|()| stream.write_all(first.as_bytes()))
                .and_then(|()| stream.flush())
                .expect("send the first half");
            std::thread::sleep(Duration::from_millis(300));
            server.terminate();
            std::thread::sleep(Duration::from_millis(300));
            stream.write_all(second.as_bytes()).expect("send the rest");
            let answer = read_answer(stream);
            assert_eq!(answer.status, 201, "in-flight command: {}", answer.body);
            server
        });
        let mut server = blocking.await.expect("the HTTP checks");
        let status = server.child.wait().expect("wait for the server");
        assert!(
            status.success(),
            "{backend}: the server exited with {status}"
        );
        // After the process is gone, the in-flight command is in the log, written by the token's
        // person, and the chain verifies.
        let store = engagements_store::Store::open(&db.url).await.expect("open");
        let events = store
            .read_stream("porteur-0190f2a0-0000-7000-8000-0000000e2e04", None)
            .await
            .expect("read");
        assert_eq!(
            events.len(),
            1,
            "{backend}: the in-flight command was recorded"
        );
        assert_eq!(events[0].metadata.actor.person, "Équipe CABBALR (fictive)");
        assert_eq!(events[0].metadata.actor.organisation, "cabbalr");
        store.shutdown().await;
        run_ok(&db, &["verify"]);
    }
}
