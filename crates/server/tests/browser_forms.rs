//! A person at a real browser: headless Chromium, driven through WebDriver (Debian's
//! `chromium-driver`), signs in with its token on the login page, types an avis with a wrong
//! amount into the dossier's page, reads the error, corrects it and sends it again; the avis is
//! then on the page and in the log, in the instructeur's name. Screenshots of the form (empty,
//! with the error, done) are kept under `target/screenshots/` (under `docs/screenshots/` with
//! `UPDATE_SCREENSHOTS=1`). Without chromedriver the test is skipped with a message, except under
//! `CI=true`, where it fails.

mod support;

use std::net::SocketAddr;

use chrono::NaiveDate;
use engagements_app::referential::LoadedContract;
use engagements_app::{CommandLine, Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_server::{router, AppState, ServerConfig};
use engagements_store::testing;
use fantoccini::Locator;
use serde_json::json;
use support::browser;

const PORTEUR: &str = "0190f2a0-0000-7000-8000-0000000000b2";
const DOSSIER: &str = "0190f2a0-0000-7000-8000-0000000000d2";

/// A server with the contract, a porteur and a dossier asking the State and the CABBALR; the
/// State's instructeur's token.
async fn server() -> (SocketAddr, Ledger, String) {
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    let defaults = MetaDefaults {
        actor: Actor::new("Équipe CABBALR", "cabbalr"),
        source: Source::Cli,
        today: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
    };
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, &defaults)
        .await
        .unwrap();
    for command in [
        json!({"command":"register_porteur","porteur_id":PORTEUR,"name":"Association Test (fictive)","kind":"association"}),
        json!({
            "command":"file_dossier","dossier_id":DOSSIER,"porteur_id":PORTEUR,"exercice":2025,
            "title":"Ateliers du mercredi (fictif)","total_budget":"90000",
            "quartiers":[{"quartier":"QN06209"}], "objectifs":[{"objectif":1}],
            "requests":[
                {"financeur":"etat","dispositif":"bop147-aap","amount":"20000"},
                {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"5000"}
            ]
        }),
    ] {
        let line = CommandLine::parse(&command.to_string()).unwrap();
        ledger
            .execute(line.command, &line.meta, &defaults)
            .await
            .unwrap();
    }
    let token = ledger
        .store()
        .create_token("Agent DDETS (fictif)", "etat", "instructeur")
        .await
        .unwrap()
        .secret;
    let app = router(AppState::new(ledger.clone(), ServerConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _db = db;
        axum::serve(listener, app).await.unwrap();
    });
    (address, ledger, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_types_an_avis_with_an_error_then_corrects_it() {
    if !browser::available() {
        return;
    }
    let (address, ledger, token) = server().await;
    let driver = browser::start_driver().await;
    let client = browser::open(&driver, 1200, 1400).await;
    let base = format!("http://{address}");
    // Signs in as a person does: the token typed into the login form.
    browser::sign_in(&client, &base, &token).await;

    client
        .goto(&format!("{base}/dossiers/{DOSSIER}"))
        .await
        .unwrap();
    let source = client.source().await.unwrap();
    assert!(source.contains("Donner un avis"), "{source}");
    assert!(source.contains("Sera enregistré au nom de"));
    client
        .find(Locator::Id("avis"))
        .await
        .unwrap()
        .find(Locator::Css("h2"))
        .await
        .unwrap();
    browser::screenshot(&client, "formulaire-avis-vide.png").await;

    // A wrong amount: the error under the field, the values kept, nothing recorded.
    let before = ledger.store().head().await.unwrap().map(|h| h.position);
    client
        .find(Locator::Css("label[for='avis-0-avis-favorable']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Id("avis-0-montant"))
        .await
        .unwrap()
        .send_keys("douze mille")
        .await
        .unwrap();
    client
        .find(Locator::Id("avis-0-commentaire"))
        .await
        .unwrap()
        .send_keys("Action utile au quartier")
        .await
        .unwrap();
    client
        .find(Locator::Css("#avis form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = client
        .wait()
        .for_element(Locator::Id("montant-erreur"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("n'est pas un montant"), "{error}");
    let kept = client
        .find(Locator::Id("montant"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("douze mille"));
    assert_eq!(
        ledger.store().head().await.unwrap().map(|h| h.position),
        before
    );
    browser::screenshot(&client, "formulaire-avis-erreur.png").await;

    // Corrected and sent again: recorded, shown on the page.
    let amount = client.find(Locator::Id("montant")).await.unwrap();
    amount.clear().await.unwrap();
    amount.send_keys("12 345,50").await.unwrap();
    amount
        .find(Locator::XPath("ancestor::form//button[@type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::XPath(
            "//strong[text()='Avis du service instructeur']",
        ))
        .await
        .expect("the avis on the dossier's page");
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), format!("/dossiers/{DOSSIER}"));
    let source = client.source().await.unwrap();
    assert!(source.contains("Avis du service instructeur"), "{source}");
    assert!(source.contains("12\u{202f}345,50 €"));
    assert!(source.contains("par Agent DDETS (fictif) (etat)"));
    browser::screenshot(&client, "formulaire-avis-enregistre.png").await;
    client.close().await.unwrap();

    let events = ledger
        .store()
        .read_stream(&format!("dossier-{DOSSIER}"), None)
        .await
        .unwrap();
    let opinion = events
        .iter()
        .find(|e| e.event_type == "OpinionGiven")
        .expect("the avis is in the log");
    let person = opinion.metadata.actor.person.clone();
    let names = ledger
        .store()
        .persons_by_id(std::slice::from_ref(&person))
        .await
        .unwrap();
    assert_eq!(names[&person].name.as_deref(), Some("Agent DDETS (fictif)"));
    assert_eq!(opinion.metadata.actor.organisation, "etat");
    assert!(
        opinion.payload.contains("\"12345.50\""),
        "{}",
        opinion.payload
    );
    ledger.store().shutdown().await;
}
