//! The demo ledger the page tests read (subsidies, TFPB, commitments), with a dossier awaiting
//! its avis and a token per role.

use chrono::NaiveDate;
use engagements_app::demo::{self, DemoConfig};
use engagements_app::{Ledger, MetaDefaults};
use engagements_domain::{Actor, Source};
use engagements_store::testing::{self, TestDb};

/// The demo ledger and what the tests visit in it.
pub struct Demo {
    /// Keeps the database file for as long as the test runs.
    pub db: TestDb,
    pub ledger: Ledger,
    /// A granted dossier asking several financeurs.
    pub dossier: String,
    /// A dossier just filed, whose lines await their avis (its page has forms).
    pub open_dossier: uuid::Uuid,
    /// (role, token secret) for admin, instructeur, bailleur, auditeur, lecteur.
    pub tokens: Vec<(&'static str, String)>,
}

/// Who records the demo, and its "today".
pub fn defaults() -> MetaDefaults {
    MetaDefaults {
        actor: Actor::new("Équipe démo (fictive)", "cabbalr"),
        source: Source::Demo,
        today: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
    }
}

pub async fn demo() -> Demo {
    let db = testing::sqlite();
    let ledger = Ledger::open(&db.url).await.unwrap();
    let defaults = defaults();
    demo::run(&ledger, &DemoConfig::default(), &defaults, |_, _| {})
        .await
        .unwrap();
    engagements_app::commitments_seed::record_initial_commitments(&ledger, None, &defaults)
        .await
        .unwrap();
    engagements_app::demo_tfpb::record_tfpb_demo(&ledger, DemoConfig::default().seed, &defaults)
        .await
        .unwrap();
    let dossier = {
        let projections = ledger.projections().await.unwrap();
        let granted = projections
            .subsidy
            .filed(None)
            .find(|d| !d.granted_total().is_zero() && d.lines.len() > 1)
            .expect("a granted dossier in the demo");
        granted.filed.as_ref().unwrap().dossier_id.to_string()
    };
    // A dossier just filed, whose lines await their avis: its page has forms.
    let open_dossier = uuid::Uuid::now_v7();
    let porteur = {
        let projections = ledger.projections().await.unwrap();
        *projections
            .porteurs
            .by_id
            .keys()
            .next()
            .expect("a porteur in the demo")
    };
    let filing = serde_json::json!({
        "command": "file_dossier", "dossier_id": open_dossier, "porteur_id": porteur,
        "exercice": 2026, "title": "Action en attente d'avis (fictive)", "total_budget": "30000",
        "quartiers": [{"quartier": "QN06204"}], "objectifs": [{"objectif": 1}],
        "requests": [
            {"financeur": "etat", "dispositif": "bop147-aap", "amount": "10000"},
            {"financeur": "cabbalr", "dispositif": "fonds-cohesion-sociale", "amount": "5000"}
        ]
    });
    let line = engagements_app::CommandLine::parse(&filing.to_string()).unwrap();
    ledger
        .execute(line.command, &line.meta, &defaults)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for (person, organisation, role) in [
        ("Équipe CABBALR (fictive)", "cabbalr", "admin"),
        ("Agent DDETS (fictif)", "etat", "instructeur"),
        (
            "Chargée TFPB (fictive)",
            "pas-de-calais-habitat",
            "bailleur",
        ),
        ("Magistrate CRC (fictive)", "etat", "auditeur"),
        ("Habitant (fictif)", "cabbalr", "lecteur"),
    ] {
        let token = ledger
            .store()
            .create_token(person, organisation, role)
            .await
            .unwrap();
        tokens.push((role, token.secret));
    }
    Demo {
        db,
        ledger,
        dossier,
        open_dossier,
        tokens,
    }
}

/// Serves the demo on a free port of the loopback; the server's address.
pub async fn serve(demo: &Demo) -> std::net::SocketAddr {
    use engagements_server::{router, AppState, ServerConfig};
    let app = router(AppState::new(demo.ledger.clone(), ServerConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    address
}
