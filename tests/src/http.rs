//! A plain HTTP/1.1 client for the end-to-end tests, and the real `engagements serve` it talks
//! to: no client library, so that the tests see exactly what goes over the wire.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::{engagements, run_ok, TestDb};

/// A running `engagements serve` and the address it listens on.
pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
}

impl Server {
    /// Starts the server on a free port and waits until it says where it listens.
    pub fn start(db: &TestDb) -> Server {
        Server::start_with(db, &[])
    }

    /// Starts the server on a free port with extra `serve` options.
    pub fn start_with(db: &TestDb, options: &[&str]) -> Server {
        let mut child = engagements(db)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(options)
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

    pub fn terminate(&self) {
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
pub struct Answer {
    pub status: u16,
    pub body: String,
}

pub fn read_answer(mut stream: TcpStream) -> Answer {
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

/// The body of a chunked answer, its chunks joined.
pub fn dechunk(mut body: &str) -> String {
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

pub fn request_head(method: &str, path: &str, token: Option<&str>, body_len: usize) -> String {
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

pub fn call(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Answer {
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

pub fn token(db: &TestDb, person: &str, organisation: &str, role: &str) -> String {
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
