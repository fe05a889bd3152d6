//! The HTTP API and pages, on both backends: what each role can and cannot do, bad input, the
//! OpenAPI document, health and metrics.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::NaiveDate;
use engagements_app::referential::LoadedContract;
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_server::{router, AppState, ServerConfig};
use engagements_store::testing::{self, TestDb};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const BODY_BYTES_MAX: usize = 64 * 1024;

struct Harness {
    app: Router,
    ledger: Ledger,
    tokens: HashMap<&'static str, String>,
    db: TestDb,
}

async fn harness(db: TestDb) -> Harness {
    let ledger = Ledger::open(&db.url).await.unwrap();
    let defaults = MetaDefaults {
        actor: Actor::system(),
        source: Source::System,
        today: NaiveDate::from_ymd_opt(2025, 1, 15).unwrap(),
    };
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults)
        .await
        .unwrap();
    let mut tokens = HashMap::new();
    for (key, person, organisation, role) in [
        ("admin", "Équipe CABBALR", "cabbalr", "admin"),
        ("instructeur", "Agent DDETS", "etat", "instructeur"),
        (
            "bailleur_a",
            "Chargée TFPB",
            "pas-de-calais-habitat",
            "bailleur",
        ),
        ("bailleur_b", "Chargé TFPB", "sia-habitat", "bailleur"),
        (
            "auditeur",
            "Magistrat CRC",
            "crc-hauts-de-france",
            "auditeur",
        ),
        ("lecteur", "Habitant", "public", "lecteur"),
    ] {
        let created = ledger
            .store()
            .create_token(person, organisation, role)
            .await
            .unwrap();
        tokens.insert(key, created.secret);
    }
    let config = ServerConfig {
        body_bytes_max: BODY_BYTES_MAX,
        public_views: false,
        ..ServerConfig::default()
    };
    let app = router(AppState::new(ledger.clone(), config));
    Harness {
        app,
        ledger,
        tokens,
        db,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Harness {
    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(body.map(Body::from).unwrap_or_default())
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(
            !text.contains("sqlx") && !text.contains("panicked") && !text.contains("SELECT "),
            "{text}"
        );
        Answer {
            status,
            headers,
            text,
        }
    }

    async fn post(&self, role: &str, command: Value) -> Answer {
        let token = self.tokens[role].clone();
        self.call(
            Method::POST,
            "/api/v1/commands",
            Some(&token),
            Some(command.to_string()),
        )
        .await
    }

    async fn get(&self, role: &str, uri: &str) -> Answer {
        let token = self.tokens[role].clone();
        self.call(Method::GET, uri, Some(&token), None).await
    }

    /// A web session of `role`'s token, as the login page opens it: the cookie's value.
    async fn session(&self, role: &str) -> String {
        let store = self.ledger.store();
        let token = store.find_token(&self.tokens[role]).await.unwrap().unwrap();
        let limits = ServerConfig::default().sessions.limits();
        store.open_session(token.token_id, limits).await.unwrap().id
    }

    async fn page(&self, role: &str, uri: &str) -> Answer {
        let request = Request::builder()
            .uri(uri)
            .header(
                header::COOKIE,
                format!("engagements_session={}", self.session(role).await),
            )
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn head(&self) -> i64 {
        self.ledger
            .store()
            .head()
            .await
            .unwrap()
            .map(|h| h.position)
            .unwrap_or(0)
    }
}

fn register_porteur(id: &str, name: &str) -> Value {
    json!({"command": "register_porteur", "porteur_id": id, "name": name, "kind": "association"})
}

fn abatement(bailleur: &str) -> Value {
    json!({
        "command": "declare_tfpb_abatement",
        "programme": {"bailleur": bailleur, "quartier": "QN06204", "year": 2025},
        "dwellings": 120,
        "abatement_eur": "45000.00"
    })
}

const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000000a1";

#[tokio::test]
async fn each_role_can_do_what_it_may_and_nothing_else() {
    for db in testing::all().await {
        let h = harness(db).await;
        let backend = h.db.backend;

        // No token, a wrong token: 401, JSON error.
        let none = h
            .call(
                Method::POST,
                "/api/v1/commands",
                None,
                Some(register_porteur(PORTEUR, "A").to_string()),
            )
            .await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{backend}");
        assert_eq!(none.code(), "unauthenticated");
        let wrong = h
            .call(
                Method::GET,
                "/api/v1/reports/dossiers",
                Some("eng_not_a_token"),
                None,
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

        // The auditeur and the lecteur write nothing.
        let before = h.head().await;
        for role in ["auditeur", "lecteur"] {
            let refused = h.post(role, register_porteur(PORTEUR, "A")).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role} on {backend}");
            assert_eq!(refused.code(), "forbidden");
        }
        assert_eq!(h.head().await, before, "{backend}: nothing recorded");

        // The admin writes, and the token's person and organisation are the event's actor.
        let created = h
            .post(
                "admin",
                register_porteur(PORTEUR, "Association des Jardins"),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let position = created.json()["position_last"].as_i64().unwrap();
        let event = h
            .ledger
            .store()
            .read_all(position, 1)
            .await
            .unwrap()
            .pop()
            .unwrap();
        let person = event.metadata.actor.person.clone();
        let names = h
            .ledger
            .store()
            .persons_by_id(std::slice::from_ref(&person))
            .await
            .unwrap();
        assert_eq!(names[&person].name.as_deref(), Some("Équipe CABBALR"));
        assert_eq!(event.metadata.actor.organisation, "cabbalr");
        assert_eq!(event.metadata.source, Source::Api);

        // Nobody may write as someone else.
        let mut disguised = register_porteur("0190f2a0-0000-7000-8000-0000000000a2", "B");
        disguised["meta"] = json!({"actor": {"person": "Préfet", "organisation": "etat"}});
        let before = h.head().await;
        assert_eq!(
            h.post("admin", disguised).await.status,
            StatusCode::FORBIDDEN
        );

        // A bailleur writes no porteur, and never another bailleur's TFPB.
        assert_eq!(
            h.post(
                "bailleur_a",
                register_porteur("0190f2a0-0000-7000-8000-0000000000a3", "C")
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let other = h.post("bailleur_a", abatement("sia-habitat")).await;
        assert_eq!(
            other.status,
            StatusCode::FORBIDDEN,
            "{backend}: {}",
            other.text
        );
        assert_eq!(h.head().await, before, "{backend}: nothing recorded");
        let own = h
            .post("bailleur_a", abatement("pas-de-calais-habitat"))
            .await;
        assert_ne!(own.status, StatusCode::FORBIDDEN, "{backend}: {}", own.text);

        // An instructeur does not decide for another financeur.
        let before = h.head().await;
        let decision = json!({"command": "decide_subsidy", "dossier_id": "0190f2a0-0000-7000-8000-0000000000d1",
            "financeur": "cabbalr", "decision": {"outcome": "refused"},
            "comite": "CF-2025-01", "decided_on": "2025-03-12"});
        let decided = h.post("instructeur", decision).await;
        assert_eq!(decided.status, StatusCode::FORBIDDEN, "{}", decided.text);
        assert_eq!(h.head().await, before);

        // Reads: the auditeur verifies the chain, the lecteur reads published views only.
        let verify = h.get("auditeur", "/api/v1/verify").await;
        assert_eq!(verify.status, StatusCode::OK, "{}", verify.text);
        assert_eq!(verify.json()["ok"], json!(true));
        assert_eq!(
            h.get("lecteur", "/api/v1/verify").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            h.get("lecteur", "/api/v1/reports/dossiers").await.status,
            StatusCode::OK
        );
        let history = format!("/api/v1/history/porteur-{PORTEUR}");
        assert_eq!(
            h.get("bailleur_a", &history).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(h.get("auditeur", &history).await.status, StatusCode::OK);
        assert_eq!(
            h.page("lecteur", "/audit").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(h.page("auditeur", "/audit").await.status, StatusCode::OK);

        // A revoked token is refused at once.
        let records = h.ledger.store().list_tokens().await.unwrap();
        let bailleur_b = records
            .iter()
            .find(|t| t.organisation == "sia-habitat")
            .unwrap();
        assert!(h
            .ledger
            .store()
            .revoke_token(bailleur_b.token_id)
            .await
            .unwrap());
        let revoked = h.post("bailleur_b", abatement("sia-habitat")).await;
        assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{backend}");
        assert!(revoked.text.contains("revoked"));

        // Cookies never authorise a write.
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/commands")
            .header(
                header::COOKIE,
                format!("engagements_session={}", h.session("admin").await),
            )
            .body(Body::from(
                register_porteur("0190f2a0-0000-7000-8000-0000000000a4", "D").to_string(),
            ))
            .unwrap();
        let response = h.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error_and_records_nothing() {
    for db in testing::all().await {
        let h = harness(db).await;
        let admin = h.tokens["admin"].clone();
        let before = h.head().await;
        let send = |body: String| {
            let admin = admin.clone();
            let h = &h;
            async move {
                h.call(Method::POST, "/api/v1/commands", Some(&admin), Some(body))
                    .await
            }
        };

        let malformed = send("{\"command\": \"register_porteur\",".to_string()).await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        assert_eq!(malformed.code(), "malformed_json");

        let mut unknown = register_porteur(PORTEUR, "A");
        unknown["colour"] = json!("red");
        let unknown = send(unknown.to_string()).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(unknown.text.contains("colour"), "{}", unknown.text);

        let huge =
            send(register_porteur(PORTEUR, &"x".repeat(BODY_BYTES_MAX * 2)).to_string()).await;
        assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(huge.code(), "payload_too_large");

        let wrong_type = send(json!({"command": "register_porteur", "porteur_id": PORTEUR, "name": 42, "kind": "association"}).to_string()).await;
        assert_eq!(
            wrong_type.status,
            StatusCode::BAD_REQUEST,
            "{}",
            wrong_type.text
        );

        let negative = send(
            json!({"command": "declare_tfpb_abatement",
            "programme": {"bailleur": "pas-de-calais-habitat", "quartier": "QN06204", "year": 2025},
            "dwellings": 10, "abatement_eur": "-5.00"})
            .to_string(),
        )
        .await;
        assert_eq!(
            negative.status,
            StatusCode::BAD_REQUEST,
            "{}",
            negative.text
        );
        assert!(negative.text.contains("-5"), "{}", negative.text);

        // An impossible date names its field and value, not only "input is out of range".
        let impossible = send(
            json!({"command": "sign_contrat_engagement_republicain", "porteur_id": PORTEUR,
            "signed_on": "2025-02-30"})
            .to_string(),
        )
        .await;
        assert_eq!(
            impossible.status,
            StatusCode::BAD_REQUEST,
            "{}",
            impossible.text
        );
        for expected in [
            "signed_on",
            "'2025-02-30' is not a date",
            "2025-02 has 28 days",
        ] {
            assert!(impossible.text.contains(expected), "{}", impossible.text);
        }

        let not_a_command = send("[1, 2]".to_string()).await;
        assert_eq!(not_a_command.status, StatusCode::BAD_REQUEST);
        assert_eq!(h.head().await, before, "nothing recorded");

        // A script in a name is stored as text and rendered escaped.
        let script = "<script>alert('x')</script> & Cie";
        let stored = send(register_porteur(PORTEUR, script).to_string()).await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
        let rows = h.get("lecteur", "/api/v1/reports/porteurs").await.json();
        assert_eq!(rows[0]["name"], json!(script));
        let page = h.page("lecteur", "/vues/porteurs").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains("<script>"), "{}", page.text);
        assert!(
            page.text
                .contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; Cie"),
            "{}",
            page.text
        );
        assert!(page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));

        // Bad query parameters name the bad value.
        let bad_date = h
            .get("lecteur", "/api/v1/reports/dossiers?as_of=hier")
            .await;
        assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
        assert!(bad_date.text.contains("hier"));
        let extra = h
            .get("lecteur", "/api/v1/reports/dossiers?colour=red")
            .await;
        assert_eq!(extra.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            h.get("lecteur", "/api/v1/reports/nothing").await.code(),
            "not_found"
        );
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn reports_pages_and_csv_follow_the_as_of_parameters() {
    let h = harness(testing::sqlite()).await;
    let first = h.post("admin", register_porteur(PORTEUR, "Première")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let position = first.json()["position_last"].as_i64().unwrap();
    // Asked twice at one position: the second answer is the table built for the first.
    for _ in 0..2 {
        let once = h.get("lecteur", "/api/v1/reports/porteurs").await;
        assert_eq!(once.json().as_array().unwrap().len(), 1);
    }
    let second = h
        .post(
            "admin",
            register_porteur("0190f2a0-0000-7000-8000-0000000000a2", "Seconde"),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);

    // The next event moved the projections on: the table is built again, not served stale.
    let now = h.get("lecteur", "/api/v1/reports/porteurs").await;
    assert_eq!(now.json().as_array().unwrap().len(), 2);
    let then = h
        .get(
            "lecteur",
            &format!("/api/v1/reports/porteurs?at_position={position}"),
        )
        .await;
    assert_eq!(then.json().as_array().unwrap().len(), 1);
    assert_eq!(
        then.headers["x-ledger-position"],
        position.to_string().as_str()
    );
    let csv = h
        .get("lecteur", "/api/v1/reports/porteurs?format=csv")
        .await;
    assert!(csv.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.text.starts_with("porteur_id,name,"), "{}", csv.text);
    assert_eq!(csv.text.lines().count(), 3);

    for uri in [
        "/tableau-de-bord",
        "/dossiers",
        "/vues/signataires",
        "/vues/quartiers",
        "/vues/objectifs",
        "/vues/porteurs",
    ] {
        let page = h.page("lecteur", uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.text);
        assert!(page.text.contains("<html lang=\"fr\">"), "{uri}");
    }
    let past = h
        .page("lecteur", &format!("/vues/porteurs?at_position={position}"))
        .await;
    assert!(past.text.contains("Première") && !past.text.contains("Seconde"));
    assert!(past.text.contains("Vue du passé"));
    // Without a token, the pages send to the login page.
    let anonymous = h.call(Method::GET, "/tableau-de-bord", None, None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let h = harness(testing::sqlite()).await;
    assert_eq!(
        h.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    let ready = h.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.json()["ready"], json!(true));
    h.post("admin", register_porteur(PORTEUR, "A")).await;
    h.post("lecteur", register_porteur(PORTEUR, "A")).await;
    let metrics = h.call(Method::GET, "/metrics", None, None).await.text;
    assert!(
        metrics.contains("engagements_commands_total{outcome=\"accepted\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("engagements_commands_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("engagements_projection_lag_events 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("engagements_log_position {}", h.head().await)),
        "{metrics}"
    );
    assert!(
        metrics.contains("engagements_command_duration_seconds_count 2"),
        "{metrics}"
    );
    h.ledger.store().shutdown().await;
}

#[tokio::test]
async fn the_openapi_document_validates_and_lists_every_route() {
    let h = harness(testing::sqlite()).await;
    let answer = h
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let spec = oas3::from_json(&answer.text).expect("a valid OpenAPI 3.1 document");
    let paths: Vec<String> = spec.paths.as_ref().unwrap().keys().cloned().collect();
    for route in [
        "/api/v1/commands",
        "/api/v1/reports",
        "/api/v1/reports/{view}",
        "/api/v1/history/{stream_id}",
        "/api/v1/verify",
        "/api/v1/reports/tfpb/{view}",
        "/api/v1/findings",
        "/api/v1/checkpoints",
        "/api/v1/referential",
        "/api/v1/referential/{section}",
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
        "/",
        "/tableau-de-bord",
        "/dossiers",
        "/dossiers/{dossier_id}",
        "/dossiers/{dossier_id}/avis",
        "/dossiers/nouveau",
        "/vues/{view}",
        "/audit",
        "/tfpb",
        "/evaluation",
        "/signataires/{financeur}",
        "/quartiers/{quartier}",
        "/objectifs/{objectif}",
        "/connexion",
        "/deconnexion",
        "/style.css",
    ] {
        assert!(
            paths.iter().any(|p| p == route),
            "{route} missing from {paths:?}"
        );
    }
    // Every reference resolves.
    let document: Value = serde_json::from_str(&answer.text).unwrap();
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let pointer = reference.trim_start_matches('#');
        assert!(document.pointer(pointer).is_some(), "dangling {reference}");
    }
    h.ledger.store().shutdown().await;
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// The bailleur column of every row of a JSON report.
fn bailleurs_of(answer: &Answer) -> std::collections::BTreeSet<String> {
    answer
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("rows expected: {}", answer.text))
        .iter()
        .map(|row| row["bailleur"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_bailleur_reads_and_writes_only_its_own_tfpb() {
    for db in testing::all().await {
        let h = harness(db).await;
        let backend = h.db.backend;
        let defaults = MetaDefaults {
            actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
            source: Source::Demo,
            today: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        };
        engagements_app::demo_tfpb::record_tfpb_demo(&h.ledger, 42, &defaults)
            .await
            .unwrap();

        // The admin, the auditeur and an instructeur see every bailleur.
        for role in ["admin", "auditeur", "instructeur"] {
            let all = h.get(role, "/api/v1/reports/tfpb/bailleurs").await;
            assert_eq!(
                all.status,
                StatusCode::OK,
                "{role} on {backend}: {}",
                all.text
            );
            let seen = bailleurs_of(&all);
            assert!(
                seen.contains("pas-de-calais-habitat") && seen.contains("sia-habitat"),
                "{role} on {backend}: {seen:?}"
            );
        }

        // A bailleur sees only its own rows, in every view, JSON and CSV.
        for view in ["bailleurs", "flags", "actions", "quartiers", "axes"] {
            let own = h
                .get("bailleur_a", &format!("/api/v1/reports/tfpb/{view}"))
                .await;
            assert_eq!(
                own.status,
                StatusCode::OK,
                "{view} on {backend}: {}",
                own.text
            );
            if matches!(view, "bailleurs" | "flags" | "actions") {
                let seen = bailleurs_of(&own);
                assert!(
                    seen.iter().all(|b| b == "pas-de-calais-habitat"),
                    "{view} on {backend}: {seen:?}"
                );
            }
        }
        let own = h.get("bailleur_a", "/api/v1/reports/tfpb/bailleurs").await;
        assert!(!own.json().as_array().unwrap().is_empty(), "{backend}");
        let csv = h
            .get("bailleur_a", "/api/v1/reports/tfpb/actions?format=csv")
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.text.lines().count() > 1, "{}", csv.text);
        assert!(
            csv.text
                .lines()
                .skip(1)
                .all(|l| l.starts_with("pas-de-calais-habitat,")),
            "{}",
            csv.text
        );

        // Asking for another bailleur's figures is refused; a lecteur reads no TFPB.
        let other = h
            .get(
                "bailleur_a",
                "/api/v1/reports/tfpb/bailleurs?bailleur=sia-habitat",
            )
            .await;
        assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text);
        assert_eq!(other.code(), "forbidden");
        assert_eq!(
            h.get("lecteur", "/api/v1/reports/tfpb/bailleurs")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let unknown = h
            .get("admin", "/api/v1/reports/tfpb/bailleurs?colour=red")
            .await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);

        // The page: the bailleur's own organisation only, escaped, with its CSV links.
        let page = h.page("bailleur_a", "/tfpb").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page
            .text
            .contains("Abattement TFPB — Pas-de-Calais habitat"));
        // Its rows, named and linked; another bailleur's rows are not there.
        assert!(page.text.contains(
            "href=\"/tfpb?bailleur=pas-de-calais-habitat\">Pas-de-Calais habitat</a></td>"
        ));
        assert!(
            !page.text.contains("href=\"/tfpb?bailleur=sia-habitat\">"),
            "{backend}"
        );
        assert!(page
            .text
            .contains("/api/v1/reports/tfpb/bailleurs?format=csv"));
        assert!(page.text.contains("<svg"));
        assert_eq!(
            h.page("bailleur_a", "/tfpb?bailleur=sia-habitat")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            h.page("lecteur", "/tfpb").await.status,
            StatusCode::FORBIDDEN
        );
        let admin_page = h.page("admin", "/tfpb?bailleur=sia-habitat").await;
        assert_eq!(admin_page.status, StatusCode::OK);
        assert!(admin_page
            .text
            .contains("href=\"/tfpb?bailleur=sia-habitat\">SIA Habitat</a></td>"));

        // Writing another bailleur's TFPB: 403 and nothing recorded.
        let before = h.head().await;
        let refused = h.post("bailleur_a", abatement("sia-habitat")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert_eq!(h.head().await, before, "{backend}: nothing recorded");
        h.ledger.store().shutdown().await;
    }
}

fn demo_defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
        source: Source::Demo,
        today: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
    }
}

/// Adds up an amount column of JSON rows, in cents.
fn cents_of(rows: &Value, column: &str) -> i64 {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let text = row[column].as_str().unwrap_or("0");
            let (units, cents) = text.split_once('.').unwrap_or((text, "0"));
            units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
        })
        .sum()
}

#[tokio::test]
async fn auditors_read_findings_and_checkpoints_and_nobody_else_does() {
    for db in testing::all().await {
        let h = harness(db).await;
        let backend = h.db.backend;
        engagements_app::demo_tfpb::record_tfpb_demo(&h.ledger, 42, &demo_defaults())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = engagements_audit::checkpoint::init_key(&dir.path().join("key")).unwrap();
        let checkpoint = engagements_audit::checkpoint::record_checkpoint(
            h.ledger.store(),
            &key,
            engagements_app::CommandMeta::default().resolve(&demo_defaults()),
        )
        .await
        .unwrap();

        // Findings: a 2025 bilan not submitted is late once 30 June 2026 has passed.
        let found = h
            .get("auditeur", "/api/v1/findings?effective_on=2027-01-15")
            .await;
        assert_eq!(found.status, StatusCode::OK, "{backend}: {}", found.text);
        let rules: Vec<String> = found
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        assert!(
            rules.iter().any(|r| r == "tfpb-bilan-late"),
            "{backend}: {rules:?}"
        );
        let csv = h
            .get(
                "admin",
                "/api/v1/findings?format=csv&effective_on=2027-01-15",
            )
            .await;
        assert!(csv
            .text
            .starts_with("rule,exercice,subject,description,evidence_positions"));
        assert_eq!(csv.text.lines().count(), rules.len() + 1);
        // Findings are kept for the head they were found at: asked again, the same; once an
        // event is recorded, found again with it (a new 2025 abatement without its bilan).
        let late = |answer: &Answer| {
            answer
                .json()
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule"] == "tfpb-bilan-late")
                .count()
        };
        let again = h
            .get("auditeur", "/api/v1/findings?effective_on=2027-01-15")
            .await;
        assert_eq!(late(&again), late(&found));
        let mut programme = abatement("sia-habitat");
        programme["programme"]["quartier"] = json!("QN06205");
        let recorded = h.post("bailleur_b", programme).await;
        assert!(recorded.status.is_success(), "{backend}: {}", recorded.text);
        let after = h
            .get("auditeur", "/api/v1/findings?effective_on=2027-01-15")
            .await;
        assert_eq!(late(&after), late(&found) + 1, "{backend}: stale findings");
        for role in ["lecteur", "bailleur_a", "instructeur"] {
            let refused = h.get(role, "/api/v1/findings").await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role}");
            assert_eq!(
                h.get(role, "/api/v1/checkpoints").await.status,
                StatusCode::FORBIDDEN
            );
        }
        assert_eq!(
            h.get("auditeur", "/api/v1/findings?colour=red")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );

        // Checkpoints: the one signed above, valid, matching the log.
        let listed = h.get("auditeur", "/api/v1/checkpoints").await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        let listed = listed.json();
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        assert_eq!(listed[0]["position"], json!(checkpoint.position));
        assert_eq!(listed[0]["signature_valid"], json!(true));
        assert_eq!(listed[0]["matches_log"], json!(true));
        assert_eq!(listed[0]["problem"], Value::Null);

        // The auditor's page shows all three: chain, checkpoints, findings.
        let page = h.page("auditeur", "/audit?effective_on=2027-01-15").await;
        assert_eq!(page.status, StatusCode::OK);
        for text in [
            "Chaîne intègre",
            "Signature valide, journal conforme",
            &checkpoint.head_hash,
            "TFPB : bilan en retard",
            "/api/v1/findings?format=csv",
            "name=\"as_of\"",
        ] {
            assert!(page.text.contains(text), "{backend}: '{text}' missing");
        }
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn signataire_quartier_objectif_pages_referential_and_commitments() {
    for db in testing::all().await {
        let h = harness(db).await;
        let backend = h.db.backend;
        let before_demo = h.head().await;
        let config = engagements_app::demo::DemoConfig {
            dossiers_per_year: 12,
            ..Default::default()
        };
        engagements_app::demo::run(&h.ledger, &config, &demo_defaults(), |_, _| {})
            .await
            .unwrap();

        for uri in ["/signataires/etat", "/quartiers/QN06204", "/objectifs/1"] {
            let page = h.page("lecteur", uri).await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{uri} on {backend}: {}",
                page.text
            );
            for text in [
                "<svg",
                "tableur (CSV)",
                "format=xlsx",
                "name=\"as_of\"",
                "format=csv",
            ] {
                assert!(page.text.contains(text), "{uri}: '{text}' missing");
            }
            // Before the demo: the referential, no grant yet.
            let past = h
                .page("lecteur", &format!("{uri}?at_position={before_demo}"))
                .await;
            assert_eq!(past.status, StatusCode::OK, "{}", past.text);
            assert!(past.text.contains("Vue du passé"), "{uri}");
            assert!(past.text.contains("aucun montant à représenter"), "{uri}");
        }
        // The signataire's CSV is its rows of the signatory view, to the cent.
        let rows = h
            .get("lecteur", "/api/v1/reports/signataires?year=2025")
            .await
            .json();
        let etat: Vec<Value> = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["financeur"] == json!("etat"))
            .cloned()
            .collect();
        let expected = cents_of(&Value::Array(etat.clone()), "granted_eur");
        assert!(
            expected > 0,
            "{backend}: the demo grants State money in 2025"
        );
        let csv = h
            .page("lecteur", "/signataires/etat?exercice=2025&format=csv")
            .await;
        assert!(csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        // A CSV for people: French headers, `;`, a BOM, decimal commas.
        let text = csv
            .text
            .strip_prefix('\u{feff}')
            .expect("a BOM for French Excel");
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(text.as_bytes());
        let granted_column = reader
            .headers()
            .unwrap()
            .iter()
            .position(|c| c == "Accordé (€)")
            .unwrap();
        let mut total = 0;
        let mut lines = 0;
        for record in reader.records() {
            let record = record.unwrap();
            let (units, cents) = record[granted_column].split_once(',').unwrap();
            total += units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
            lines += 1;
        }
        assert_eq!(lines, etat.len());
        assert_eq!(total, expected, "{backend}");

        // Unknown or hostile ids: 404 or 400, escaped.
        let unknown = h.page("lecteur", "/signataires/%3Cscript%3E").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(!unknown.text.contains("<script>") && unknown.text.contains("n'existe pas"));
        assert_eq!(
            h.page("lecteur", "/objectifs/99").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            h.page("lecteur", "/objectifs/abc").await.status,
            StatusCode::BAD_REQUEST
        );

        // The referential, whole and by section.
        let whole = h.get("lecteur", "/api/v1/referential").await;
        assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
        assert_eq!(
            whole.json()["referential"]["quartiers"]["quartiers"]
                .as_array()
                .unwrap()
                .len(),
            25
        );
        let quartiers = h.get("lecteur", "/api/v1/referential/quartiers").await;
        assert_eq!(quartiers.json().as_array().unwrap().len(), 25);
        let objectifs = h
            .get("lecteur", "/api/v1/referential/objectifs?format=csv")
            .await;
        assert_eq!(objectifs.text.lines().count(), 36, "{}", objectifs.text);
        assert_eq!(
            h.get("lecteur", "/api/v1/referential/nope").await.status,
            StatusCode::NOT_FOUND
        );
        let before = h.get("lecteur", "/api/v1/referential?at_position=0").await;
        assert_eq!(before.status, StatusCode::NOT_FOUND, "{}", before.text);

        // The commitments views answer.
        for view in [
            "engagements",
            "engagements-quartiers",
            "engagements-totaux",
            "indicateurs",
        ] {
            let answer = h.get("lecteur", &format!("/api/v1/reports/{view}")).await;
            assert_eq!(answer.status, StatusCode::OK, "{view}: {}", answer.text);
            assert!(answer.json().is_array());
        }
        h.ledger.store().shutdown().await;
    }
}

#[tokio::test]
async fn a_grant_above_the_request_needs_its_majoration_and_the_evaluation_shows_it() {
    let db = testing::sqlite();
    let h = harness(db).await;
    let porteur = "0190f2a0-0000-7000-8000-0000000000e1";
    let dossier = "0190f2a0-0000-7000-8000-0000000000e2";
    let created = h
        .post(
            "admin",
            register_porteur(porteur, "Association Évaluation (fictive)"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let opened = h
        .post(
            "admin",
            json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap",
                "exercice":2025,"amount":"100000"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let filed = h
        .post(
            "admin",
            json!({"command":"file_dossier","dossier_id":dossier,"porteur_id":porteur,"exercice":2025,
                "title":"Atelier (fictif)","total_budget":"5000",
                "quartiers":[{"quartier":"QN06209"}],"objectifs":[{"objectif":1}],
                "requests":[{"financeur":"etat","dispositif":"bop147-aap","amount":"1000"}],
                "pistes":["O1-I1"]}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let filed_at = h.head().await;
    let grant = |reason: Option<&str>| {
        let mut decision = json!({"outcome":"granted","amount":"1500"});
        if let Some(reason) = reason {
            decision["majoration_reason"] = json!(reason);
        }
        json!({"command":"decide_subsidy","dossier_id":dossier,"financeur":"etat",
            "decision":decision,"comite":"CF-2025-01","decided_on":"2025-04-15"})
    };
    let above = h.post("admin", grant(None)).await;
    assert!(above.status.is_client_error(), "{}", above.text);
    assert!(
        above
            .text
            .contains("(1500.00 €) dépasse le montant demandé (1000.00 €)"),
        "{}",
        above.text
    );
    assert_eq!(h.head().await, filed_at, "nothing recorded");
    let majorated = h
        .post("admin", grant(Some("public élargi au quartier voisin")))
        .await;
    assert_eq!(majorated.status, StatusCode::CREATED, "{}", majorated.text);

    // The evaluation page: open to the comité's roles, the grant on its objectif, piste and
    // quartier; as of the filing, nothing granted yet.
    assert_eq!(
        h.page("lecteur", "/evaluation").await.status,
        StatusCode::FORBIDDEN
    );
    let page = h.page("admin", "/evaluation?du=2025&au=2025").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Évaluation du contrat de ville"),
        "{}",
        page.text
    );
    assert!(page.text.contains("500,00"), "{}", page.text);
    assert!(
        page.text.contains("Atelier (fictif)"),
        "the piste's dossier is named"
    );
    let csv = h
        .page(
            "admin",
            "/evaluation?du=2025&au=2025&format=csv&partie=pistes",
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let served: Vec<&str> = csv
        .text
        .lines()
        .filter(|l| l.contains("Atelier (fictif)"))
        .collect();
    assert_eq!(served.len(), 1, "{}", csv.text);
    assert!(
        served[0].contains("O1-I1") && served[0].contains("1500,00"),
        "{}",
        served[0]
    );
    let before = h
        .page(
            "admin",
            &format!("/evaluation?du=2025&au=2025&format=csv&partie=objectifs-financeurs&at_position={filed_at}"),
        )
        .await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(!before.text.contains("1500,00"), "{}", before.text);
    let unknown = h
        .page("admin", "/evaluation?format=csv&partie=nulle-part")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    h.ledger.store().shutdown().await;
}
