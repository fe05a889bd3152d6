//! What the interop tests share: a ledger with the contract published, and the 2025 envelopes
//! the sheets' decisions draw on.
#![allow(dead_code)]

use engagements_app::referential::LoadedContract;
use engagements_app::{CommandMeta, Ledger, MetaDefaults};
use engagements_domain::LedgerCommand;
use engagements_store::testing::TestDb;
use serde_json::json;

/// A ledger on `db` with the contract published, recorded with `defaults`.
pub async fn ledger_with_contract(db: &TestDb, defaults: &MetaDefaults) -> Ledger {
    let ledger = Ledger::open(&db.url).await.unwrap();
    LoadedContract::embedded()
        .unwrap()
        .publish(&ledger, defaults)
        .await
        .unwrap();
    ledger
}

/// [`ledger_with_contract`], with the State's BOP 147 and the CABBALR's fonds de cohésion
/// sociale open for 2025 (100 000 € each).
pub async fn ledger_with_envelopes(db: &TestDb, defaults: &MetaDefaults) -> Ledger {
    let ledger = ledger_with_contract(db, defaults).await;
    for (financeur, dispositif) in [
        ("etat", "bop147-aap"),
        ("cabbalr", "fonds-cohesion-sociale"),
    ] {
        let command: LedgerCommand = serde_json::from_value(json!({"command":"open_envelope",
            "financeur":financeur,"dispositif":dispositif,"exercice":2025,"amount":"100000"}))
        .unwrap();
        ledger
            .execute(command, &CommandMeta::default(), defaults)
            .await
            .unwrap();
    }
    ledger
}

/// The position the read model has reached.
pub async fn head(ledger: &Ledger) -> i64 {
    ledger.projections().await.unwrap().position
}
