//! A real browser for the tests: headless Chromium driven through WebDriver (Debian's
//! `chromium-driver`), signed in as a person does, with its token typed into the login form.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest wait for chromedriver to listen.
const DRIVER_START_MAX: Duration = Duration::from_secs(20);

/// Whether the browser is here; without it the test is skipped with a message, except under
/// `CI=true`, where it fails.
pub fn available() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{CHROMEDRIVER} and {CHROMIUM} are required in CI: .ci/install installs them");
    }
    eprintln!("skipping the browser test: apt-get install chromium chromium-driver");
    false
}

/// Where screenshots go: `target/screenshots/`, or `docs/screenshots/` with
/// `UPDATE_SCREENSHOTS=1`.
pub fn screenshots_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        root.join("docs/screenshots")
    } else {
        root.join("target/screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Ends chromedriver however the test ends.
pub struct Driver(Child, pub u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child, port);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < DRIVER_START_MAX,
            "chromedriver does not listen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

/// A browser window of `width` × `height` pixels.
pub async fn open(driver: &Driver, width: u32, height: u32) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={width},{height}"), "--no-first-run",
                     "--disable-background-networking"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a WebDriver session")
}

/// Signs in as a person does: the token typed into the login form, sent with its button.
pub async fn sign_in(client: &Client, base: &str, token: &str) {
    client.goto(&format!("{base}/connexion")).await.unwrap();
    client
        .find(Locator::Css("input[name=jeton]"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    client
        .find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    if client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form.inline[action='/deconnexion']"))
        .await
        .is_err()
    {
        let url = client.current_url().await.unwrap();
        panic!("not signed in: {url} {}", client.source().await.unwrap());
    }
}

/// Signs out with the page's button (the next person starts from the login page).
pub async fn sign_out(client: &Client) {
    client
        .find(Locator::Css("form.inline[action='/deconnexion'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[name=jeton]"))
        .await
        .unwrap();
}

/// The page's URL once it holds `part` (a click that submits a form or follows a link returns
/// before the browser has navigated): fails after ten seconds with the URL it is on.
pub async fn url_once_it_holds(client: &Client, part: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let url = client.current_url().await.unwrap().to_string();
        if url.contains(part) {
            return url;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still on {url}, waiting for « {part} »"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots_dir().join(name), png).unwrap();
}
