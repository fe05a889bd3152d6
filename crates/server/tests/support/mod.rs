//! What several test files of the server share. Each file uses a part of it.
//!
//! The forms' tests share: a ledger with the contract, a web session per role, and
//! posts made as a browser makes them (the session's cookie, the CSRF token, the form's fields).
#![allow(dead_code)]

pub mod browser;
pub mod demo;
pub mod text;
use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::NaiveDate;
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandLine, Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_server::{router, AppState, ServerConfig};
use engagements_store::sessions::OpenedSession;
use engagements_store::testing::TestDb;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub struct Harness {
    pub app: Router,
    pub ledger: Ledger,
    pub sessions: HashMap<&'static str, OpenedSession>,
    pub admin_token: String,
    _db: TestDb,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

/// The roles signed in: key, person, organisation, role.
pub const ROLES: [(&str, &str, &str, &str); 6] = [
    ("admin", "Équipe CABBALR", "cabbalr", "admin"),
    ("instructeur", "Agent DDETS", "etat", "instructeur"),
    (
        "instructeur-cabbalr",
        "Agent CABBALR",
        "cabbalr",
        "instructeur",
    ),
    (
        "bailleur",
        "Chargée TFPB",
        "pas-de-calais-habitat",
        "bailleur",
    ),
    (
        "auditeur",
        "Magistrat CRC",
        "crc-hauts-de-france",
        "auditeur",
    ),
    ("lecteur", "Habitant", "public", "lecteur"),
];

/// Records `command` as the contract's team.
pub async fn run(ledger: &Ledger, command: Value) {
    let line = CommandLine::parse(&command.to_string()).unwrap();
    let defaults = MetaDefaults {
        actor: Actor::new("Équipe CABBALR", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
    };
    ledger
        .execute(line.command, &line.meta, &defaults)
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
}

impl Harness {
    /// The contract published, `commands` recorded, and a web session per role of [`ROLES`].
    pub async fn new(db: TestDb, commands: Vec<Value>) -> Harness {
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
        for command in commands {
            run(&ledger, command).await;
        }
        let mut sessions = HashMap::new();
        let mut admin_token = String::new();
        for (key, person, organisation, role) in ROLES {
            let store = ledger.store();
            let created = store
                .create_token(person, organisation, role)
                .await
                .unwrap();
            if key == "admin" {
                admin_token = created.secret.clone();
            }
            let token = store.find_token(&created.secret).await.unwrap().unwrap();
            let limits = ServerConfig::default().sessions.limits();
            let session = store.open_session(token.token_id, limits).await.unwrap();
            sessions.insert(key, session);
        }
        let app = router(AppState::new(ledger.clone(), ServerConfig::default()));
        Harness {
            app,
            ledger,
            sessions,
            admin_token,
            _db: db,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
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

    pub async fn page(&self, role: &str, uri: &str) -> Answer {
        let request = Request::builder()
            .uri(uri)
            .header(header::COOKIE, self.cookie(role))
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    fn cookie(&self, role: &str) -> String {
        format!("engagements_session={}", self.sessions[role].id)
    }

    /// Posts a form as `role`'s browser does, with `csrf` as its CSRF field (none when `None`).
    pub async fn post(
        &self,
        role: &str,
        uri: &str,
        csrf: Option<&str>,
        fields: &[(String, String)],
    ) -> Answer {
        let mut pairs: Vec<(&str, &str)> = csrf.map(|c| ("csrf", c)).into_iter().collect();
        pairs.extend(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let body = serde_urlencoded::to_string(&pairs).unwrap();
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, self.cookie(role))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Posts a form with `role`'s own CSRF token.
    pub async fn submit(&self, role: &str, uri: &str, fields: &[(String, String)]) -> Answer {
        let csrf = self.sessions[role].csrf_token.clone();
        self.post(role, uri, Some(&csrf), fields).await
    }

    /// Sends a form that records one event, then the same form again, as a double click or a
    /// reload would: both answer 303, only the first records (one event). The first answer,
    /// for its `Location`.
    pub async fn submit_recorded_once(
        &self,
        role: &str,
        uri: &str,
        fields: &[(String, String)],
    ) -> Answer {
        let before = self.head().await;
        let answer = self.submit(role, uri, fields).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{uri}: {}",
            answer.text
        );
        assert_eq!(self.head().await, before + 1, "{uri}: one event");
        let again = self.submit(role, uri, fields).await;
        assert_eq!(
            again.status,
            StatusCode::SEE_OTHER,
            "{uri} again: {}",
            again.text
        );
        assert_eq!(
            self.head().await,
            before + 1,
            "{uri}: double submit recorded twice"
        );
        answer
    }

    pub async fn head(&self) -> i64 {
        self.ledger
            .store()
            .head()
            .await
            .unwrap()
            .map(|h| h.position)
            .unwrap_or(0)
    }

    /// The events of a stream, as the history API gives them.
    pub async fn history(&self, stream_id: &str) -> Vec<Value> {
        let request = Request::builder()
            .uri(format!("/api/v1/history/{stream_id}"))
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.admin_token),
            )
            .body(Body::empty())
            .unwrap();
        let answer = self.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        serde_json::from_str(&answer.text).unwrap()
    }
}

/// The value of the first `name="…"` field of a page (or of a part of it).
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in the page"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// The part of a page from the element with id `id` to the end of its form.
pub fn form_part<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id} in the page"));
    let rest = &html[start..];
    let end = rest.find("</form>").map(|e| e + 7).unwrap_or(rest.len());
    &rest[..end]
}

/// Owned (name, value) pairs.
pub fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// A French amount as pages write it: `12 345,50 €` with narrow no-break spaces.
pub fn eur(text: &str) -> String {
    format!("{} €", text.replace(' ', "\u{202f}"))
}
