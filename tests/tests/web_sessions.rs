//! End to end over HTTP, against the real `engagements serve`: web sessions (login, logout,
//! revocation, idle expiry, login CSRF, cookie attributes), the answers for unknown routes and
//! methods, the refusal of a command with a repeated key or a control character, and a client
//! that never finishes its headers (it cannot hold the server past its shutdown grace).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use engagements_e2e::http::{dechunk, Server};
use engagements_e2e::{backends, run_ok, testing, TestDb};

/// One answer: status, headers (names in lowercase) and body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value a `Set-Cookie` of this answer gives to cookie `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find_map(|c| {
            c.split(';')
                .next()
                .and_then(|pair| pair.split_once('='))
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }
}

/// Sends `method path` with `headers` and `body`, reads the whole answer.
fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .expect("send");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    Reply {
        status,
        headers,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    }
}

/// Creates a token with the CLI; returns its id and its secret.
fn token(db: &TestDb, person: &str, organisation: &str, role: &str) -> (String, String) {
    let output = run_ok(
        db,
        &[
            "tokens",
            "create",
            "--person",
            person,
            "--organisation",
            organisation,
            "--role",
            role,
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let id = stderr
        .split_whitespace()
        .nth(1)
        .expect("the token id on standard error")
        .to_string();
    (
        id,
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
    )
}

/// The login form's CSRF token, from its cookie (checked equal to the form's hidden field).
fn login_form(address: SocketAddr) -> String {
    let form = send(address, "GET", "/connexion", &[], "");
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form
        .cookie("engagements_connexion")
        .expect("the login form sets its CSRF cookie");
    assert_eq!(csrf.len(), 64);
    assert!(
        form.body
            .contains(&format!(r#"name="csrf" value="{csrf}""#)),
        "{}",
        form.body
    );
    csrf
}

/// Posts the login form with `secret`, the form's CSRF token as field and cookie, and `extra`
/// headers.
fn login_with(
    address: SocketAddr,
    secret: &str,
    csrf_field: Option<&str>,
    csrf_cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> Reply {
    let mut body = format!("jeton={secret}");
    if let Some(csrf) = csrf_field {
        body.push_str(&format!("&csrf={csrf}"));
    }
    let cookie = csrf_cookie.map(|c| format!("engagements_connexion={c}"));
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(cookie) = &cookie {
        headers.push(("Cookie", cookie.as_str()));
    }
    headers.extend_from_slice(extra);
    send(address, "POST", "/connexion", &headers, &body)
}

/// Signs in and returns the session cookie's value.
fn login(address: SocketAddr, secret: &str) -> String {
    let csrf = login_form(address);
    let origin = format!("http://{address}");
    let reply = login_with(
        address,
        secret,
        Some(&csrf),
        Some(&csrf),
        &[("Origin", &origin)],
    );
    assert_eq!(reply.status, 303, "{reply:?}");
    reply
        .cookie("engagements_session")
        .expect("a session cookie")
}

fn page(address: SocketAddr, path: &str, session: &str) -> Reply {
    let cookie = format!("engagements_session={session}");
    send(address, "GET", path, &[("Cookie", &cookie)], "")
}

fn opens_the_dashboard(address: SocketAddr, session: &str) -> bool {
    let reply = page(address, "/tableau-de-bord", session);
    match reply.status {
        200 => true,
        303 => {
            assert_eq!(reply.header("location"), Some("/connexion"));
            false
        }
        other => panic!("unexpected {other}: {}", reply.body),
    }
}

/// The session's CSRF token, as the logout form of a page carries it.
fn page_csrf(address: SocketAddr, session: &str) -> String {
    let reply = page(address, "/tableau-de-bord", session);
    let form = reply
        .body
        .split(r#"action="/deconnexion""#)
        .nth(1)
        .expect("a logout form");
    form.split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the logout form carries the CSRF token")
        .to_string()
}

fn logout(address: SocketAddr, session: &str, csrf: &str) -> Reply {
    let cookie = format!("engagements_session={session}");
    send(
        address,
        "POST",
        "/deconnexion",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf={csrf}"),
    )
}

#[tokio::test]
async fn web_sessions_are_server_side_end_at_logout_and_revocation_and_resist_login_csrf() {
    for db in backends().await {
        let backend = db.backend;
        run_ok(&db, &["init"]);
        let (token_id, secret) = token(&db, "Équipe CABBALR (fictive)", "cabbalr", "admin");
        let server = Server::start(&db);
        let address = server.address;
        let checks = tokio::task::spawn_blocking(move || {
            // Login CSRF: another site's Origin, or no CSRF token, or a token that is not the
            // form's, is refused and opens no session.
            let csrf = login_form(address);
            let foreign = login_with(
                address,
                &secret,
                Some(&csrf),
                Some(&csrf),
                &[("Origin", "https://evil.example")],
            );
            assert_eq!(foreign.status, 403, "{backend}: {foreign:?}");
            assert!(foreign.body.contains("formulaire"), "{}", foreign.body);
            assert!(foreign.cookie("engagements_session").is_none());
            let no_field = login_with(address, &secret, None, Some(&csrf), &[]);
            assert_eq!(no_field.status, 403, "{no_field:?}");
            let no_cookie = login_with(address, &secret, Some(&csrf), None, &[]);
            assert_eq!(no_cookie.status, 403, "{no_cookie:?}");
            let other = login_form(address);
            let mismatch = login_with(address, &secret, Some(&other), Some(&csrf), &[]);
            assert_eq!(mismatch.status, 403, "{mismatch:?}");
            let wrong_token = login_with(address, "eng_nope", Some(&csrf), Some(&csrf), &[]);
            assert_eq!(wrong_token.status, 401, "{wrong_token:?}");
            assert!(wrong_token.cookie("engagements_session").is_none());

            // Over HTTPS (as a TLS proxy says), the cookie is Secure; it is never the token.
            let origin = format!("http://{address}");
            let https = login_with(
                address,
                &secret,
                Some(&csrf),
                Some(&csrf),
                &[("Origin", &origin), ("X-Forwarded-Proto", "https")],
            );
            assert_eq!(https.status, 303, "{https:?}");
            assert_eq!(https.header("location"), Some("/tableau-de-bord"));
            let cookie = https
                .set_cookies()
                .into_iter()
                .find(|c| c.starts_with("engagements_session="))
                .expect("a session cookie")
                .to_string();
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
                assert!(
                    cookie.split("; ").any(|a| a == attribute),
                    "{attribute} in {cookie}"
                );
            }
            assert!(
                !cookie.contains(&secret),
                "the cookie holds the token: {cookie}"
            );
            let plain = login(address, &secret);
            assert_eq!(plain.len(), 64);
            assert!(plain.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_ne!(plain, secret);
            let plain_cookie = {
                let csrf = login_form(address);
                login_with(address, &secret, Some(&csrf), Some(&csrf), &[])
            };
            let plain_cookie = plain_cookie.set_cookies().join("\n");
            assert!(
                plain_cookie.contains("HttpOnly; SameSite=Strict; Path=/"),
                "{plain_cookie}"
            );
            assert!(!plain_cookie.contains("Secure"), "{plain_cookie}");

            // The session reads pages and downloads; it never authorises a JSON write.
            let session = plain;
            assert!(opens_the_dashboard(address, &session));
            let download = page(address, "/api/v1/reports/porteurs?format=csv", &session);
            assert_eq!(download.status, 200, "{}", download.body);
            let cookie_header = format!("engagements_session={session}");
            let write = send(
                address,
                "POST",
                "/api/v1/commands",
                &[
                    ("Cookie", &cookie_header),
                    ("Content-Type", "application/json"),
                ],
                r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e5e01","name":"Par cookie","kind":"association"}"#,
            );
            assert_eq!(write.status, 401, "{}", write.body);

            // Logout is a form of the session: without its CSRF token it is refused (403, in
            // French) and the session goes on; with it, the session ends on the server.
            let csrf = page_csrf(address, &session);
            assert_eq!(csrf.len(), 64);
            let forged = logout(address, &session, &"0".repeat(64));
            assert_eq!(forged.status, 403, "{forged:?}");
            assert!(forged.body.contains("lang=\"fr\""), "{}", forged.body);
            assert!(opens_the_dashboard(address, &session));
            let out = logout(address, &session, &csrf);
            assert_eq!(out.status, 303, "{out:?}");
            assert_eq!(out.header("location"), Some("/connexion"));
            assert_eq!(out.cookie("engagements_session").as_deref(), Some(""));
            assert!(
                !opens_the_dashboard(address, &session),
                "the session outlived the logout"
            );
            let still = send(
                address,
                "GET",
                "/api/v1/reports/porteurs",
                &[("Authorization", &format!("Bearer {secret}"))],
                "",
            );
            assert_eq!(
                still.status, 200,
                "the token itself still works: {}",
                still.body
            );

            // Revoking the token ends its sessions.
            let session = login(address, &secret);
            assert!(opens_the_dashboard(address, &session));
            (session, server, token_id)
        });
        let (session, server, token_id) = checks.await.expect("the HTTP checks");
        run_ok(&db, &["tokens", "revoke", &token_id]);
        let address = server.address;
        let after = tokio::task::spawn_blocking(move || opens_the_dashboard(address, &session))
            .await
            .unwrap();
        assert!(
            !after,
            "{backend}: the session outlived its token's revocation"
        );
        drop(server);
    }
}

#[tokio::test]
async fn an_idle_session_is_refused() {
    let db = testing::sqlite();
    run_ok(&db, &["init"]);
    let (_, secret) = token(&db, "Agent DDETS (fictif)", "etat", "instructeur");
    let server = Server::start_with(&db, &["--session-idle-secs", "1"]);
    let address = server.address;
    tokio::task::spawn_blocking(move || {
        let session = login(address, &secret);
        assert!(opens_the_dashboard(address, &session));
        std::thread::sleep(Duration::from_millis(1_500));
        assert!(
            !opens_the_dashboard(address, &session),
            "an idle session was accepted"
        );
        // A new login works again.
        let fresh = login(address, &secret);
        assert!(opens_the_dashboard(address, &fresh));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_under_api_and_french_pages_elsewhere() {
    let db = testing::sqlite();
    run_ok(&db, &["init"]);
    let server = Server::start(&db);
    let address = server.address;
    tokio::task::spawn_blocking(move || {
        let missing = send(address, "GET", "/api/v1/nulle-part", &[], "");
        assert_eq!(missing.status, 404);
        assert!(missing
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"));
        let body: serde_json::Value = serde_json::from_str(&missing.body).expect("JSON");
        assert_eq!(body["error"]["code"], "not_found", "{body}");

        let method = send(address, "DELETE", "/api/v1/commands", &[], "");
        assert_eq!(method.status, 405);
        let body: serde_json::Value = serde_json::from_str(&method.body).expect("JSON");
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
        assert!(
            method.header("allow").is_some_and(|a| a.contains("POST")),
            "{method:?}"
        );

        let page = send(address, "GET", "/nulle-part", &[], "");
        assert_eq!(page.status, 404);
        assert!(page
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"));
        assert!(page.body.contains("Page introuvable"), "{}", page.body);
        assert!(page.body.contains(r#"href="/tableau-de-bord""#));

        let wrong = send(address, "DELETE", "/tableau-de-bord", &[], "");
        assert_eq!(wrong.status, 405);
        assert!(
            wrong.body.contains("Méthode non autorisée"),
            "{}",
            wrong.body
        );
        assert!(wrong.body.contains(r#"href="/tableau-de-bord""#));
    })
    .await
    .unwrap();
}

/// Opens a connection and sends the start of a request's headers, never the end.
fn unfinished_request(address: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .and_then(|()| stream.flush())
        .expect("send half a request");
    stream
}

#[tokio::test]
async fn a_client_with_unfinished_headers_cannot_hold_the_server_past_its_grace() {
    const GRACE_SECONDS: u64 = 2;
    let db = testing::sqlite();
    run_ok(&db, &["init"]);
    // The header timeout is far above the grace: the grace alone must end the wait.
    let mut server = Server::start_with(
        &db,
        &[
            "--shutdown-grace-secs",
            &GRACE_SECONDS.to_string(),
            "--header-read-timeout-secs",
            "60",
        ],
    );
    let _stream = unfinished_request(server.address);
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    server.terminate();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(GRACE_SECONDS + 2),
            "the server still runs {:?} after SIGTERM",
            signalled.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    eprintln!("stopped {:?} after SIGTERM", signalled.elapsed());
}

#[tokio::test]
async fn a_client_that_does_not_finish_its_headers_is_disconnected() {
    let db = testing::sqlite();
    run_ok(&db, &["init"]);
    let server = Server::start_with(&db, &["--header-read-timeout-secs", "1"]);
    let address = server.address;
    tokio::task::spawn_blocking(move || {
        let mut stream = unfinished_request(address);
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let started = Instant::now();
        let mut rest = Vec::new();
        // The server closes the connection (perhaps after a 408): the read ends, well before
        // the 10 s this side would wait.
        let _ = stream.read_to_end(&mut rest);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the connection stayed open {:?}",
            started.elapsed()
        );
        // The server still serves others.
        assert_eq!(send(address, "GET", "/healthz", &[], "").status, 200);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_api_refuses_a_repeated_key_and_a_control_character_naming_the_field() {
    let db = testing::sqlite();
    run_ok(&db, &["init"]);
    let (_, secret) = token(&db, "Équipe CABBALR (fictive)", "cabbalr", "admin");
    let server = Server::start(&db);
    let address = server.address;
    tokio::task::spawn_blocking(move || {
        let bearer = format!("Bearer {secret}");
        let post = |body: &str| {
            send(
                address,
                "POST",
                "/api/v1/commands",
                &[("Authorization", &bearer), ("Content-Type", "application/json")],
                body,
            )
        };
        let repeated = post(
            r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e7e01","name":"A","name":"B","kind":"association"}"#,
        );
        assert_eq!(repeated.status, 400, "{}", repeated.body);
        let body: serde_json::Value = serde_json::from_str(&repeated.body).expect("JSON");
        assert_eq!(body["error"]["code"], "invalid", "{body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("\"name\""));
        let control = post(
            r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e7e02","name":"A\u0007","kind":"association"}"#,
        );
        assert_eq!(control.status, 400, "{}", control.body);
        assert!(control.body.contains("name: control character U+0007"), "{}", control.body);
        let fine = post(
            r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e7e03","name":"Association (fictive)","kind":"association"}"#,
        );
        assert_eq!(fine.status, 201, "{}", fine.body);
    })
    .await
    .unwrap();
}
