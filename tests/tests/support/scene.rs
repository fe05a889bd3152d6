//! A person at a browser, signed in to a real `engagements serve`: the database with the contract
//! and a fixture, the server, the browser after the login form; and what the page tests read
//! back from it (texts, amounts, screenshots of one element).

use engagements_e2e::http::{token, Server};
use engagements_e2e::{run_ok, testing, TestDb};
use fantoccini::{Client, Locator};
use serde_json::Value;

use super::browser::{click, screenshots_dir, start_browser, wait_for, Driver};

/// A database with the contract and a fixture, a server on it, and a browser signed in.
pub struct Scene {
    pub db: TestDb,
    pub server: Server,
    pub base: String,
    _driver: Driver,
    pub client: Client,
}

impl Scene {
    /// `commands` recorded (with `engagements apply --atomic`, as the contract's team), then a
    /// browser signed in through the login form as `person` of `organisation` with `role`.
    pub async fn signed_in(
        commands: &[Value],
        person: &str,
        organisation: &str,
        role: &str,
    ) -> Scene {
        let db = testing::sqlite();
        run_ok(&db, &["init"]);
        apply(&db, commands);
        let secret = token(&db, person, organisation, role);
        let server = Server::start(&db);
        let base = format!("http://{}", server.address);
        let (driver, client) = start_browser().await;
        client.goto(&format!("{base}/connexion")).await.unwrap();
        client
            .find(Locator::Css("input[name=jeton]"))
            .await
            .unwrap()
            .send_keys(&secret)
            .await
            .unwrap();
        click(&client, "main form button[type=submit]").await;
        wait_for(&client, "form.inline[action='/deconnexion']").await;
        Scene {
            db,
            server,
            base,
            _driver: driver,
            client,
        }
    }
}

/// Records `commands` with `engagements apply --atomic`, as the contract's team.
pub fn apply(db: &TestDb, commands: &[Value]) {
    if commands.is_empty() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("browser-fixture-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fixture.jsonl");
    let lines: Vec<String> = commands.iter().map(Value::to_string).collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    run_ok(db, &["apply", "--atomic", path.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(dir);
}

/// Largest screenshot kept in the repository.
const SHOT_BYTES_MAX: usize = 400_000;

/// A screenshot of one element (a form, a section), kept small.
pub async fn shot(client: &Client, css: &str, name: &str) {
    let element = client.find(Locator::Css(css)).await.unwrap();
    let png = element.screenshot().await.unwrap();
    std::fs::create_dir_all(screenshots_dir()).unwrap();
    std::fs::write(screenshots_dir().join(name), &png).unwrap();
    assert!(png.len() < SHOT_BYTES_MAX, "{name} is {} bytes", png.len());
}

/// The text of an element once it shows, its no-break spaces made plain (WebDriver's text may
/// keep or drop them).
pub async fn text_of(client: &Client, css: &str) -> String {
    plain(&wait_for(client, css).await.text().await.unwrap())
}

pub fn plain(text: &str) -> String {
    text.replace(['\u{202f}', '\u{a0}'], " ")
}

/// `12 345,50 €` as [`text_of`] reads it.
pub fn eur(text: &str) -> String {
    format!("{text} €")
}
