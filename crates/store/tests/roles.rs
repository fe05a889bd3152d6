//! PostgreSQL roles of `deploy/postgres-roles.sql`: the owner runs the migrations, the application
//! role appends through the ledger and can neither change, remove nor unprotect the log.

use std::panic::AssertUnwindSafe;

use chrono::NaiveDate;
use engagements_domain::porteur::{PorteurEvent, PorteurKind};
use engagements_domain::{Actor, Metadata, PorteurId, Source};
use engagements_store::testing;
use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, Store};
use futures::FutureExt;
use sqlx::{Connection, PgConnection};

const ROLES_SQL: &str = include_str!("../../../deploy/postgres-roles.sql");

fn porteur_registered(name: &str) -> AppendRequest {
    let event = NewEvent::from_event(&PorteurEvent::PorteurRegistered {
        porteur_id: PorteurId::new(),
        name: name.to_string(),
        kind: PorteurKind::Association,
        siret: None,
        rna: None,
    })
    .unwrap();
    AppendRequest::single(
        Metadata::new(
            Actor::new("Agent test", "cabbalr"),
            Source::Cli,
            NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
        ),
        "porteur",
        format!("porteur-{}", uuid::Uuid::now_v7()),
        ExpectedVersion::NoStream,
        vec![event],
    )
}

/// `url` with its user replaced by `user` (the test server trusts local connections).
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host_start = rest.find('@').map_or(0, |at| at + 1);
    format!("{scheme}://{user}@{}", &rest[host_start..])
}

#[tokio::test]
async fn the_application_role_appends_but_cannot_change_or_unprotect_the_log() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let owner = format!("engagements_owner_{}", &suffix[20..]);
    let app = format!("engagements_app_{}", &suffix[20..]);
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    let script = ROLES_SQL
        .replace("engagements_owner", &owner)
        .replace("engagements_app", &app);
    let outcome = AssertUnwindSafe(async {
        sqlx::raw_sql(&script).execute(&mut admin).await.unwrap();
        check_roles(&db.url, &owner, &app).await;
    })
    .catch_unwind()
    .await;
    // Clean up whatever happened: the schema, then the roles (cluster-wide objects).
    let schema: (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "DROP SCHEMA {} CASCADE; DROP OWNED BY {owner}, {app}; DROP ROLE {owner}, {app};",
        schema.0
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn check_roles(url: &str, owner: &str, app: &str) {
    // The owner creates the schema (runs the migrations) and records an event.
    let owner_store = Store::open(&as_user(url, owner)).await.unwrap();
    owner_store
        .append(porteur_registered("Centre social"))
        .await
        .unwrap();
    owner_store.shutdown().await;

    // The application opens the ledger without migrating (it could not), appends and reads.
    let app_url = as_user(url, app);
    let store = Store::open(&app_url).await.unwrap();
    let appended = store.append(porteur_registered("Régie de quartier")).await;
    assert!(
        appended.is_ok(),
        "the application role appends: {appended:?}"
    );
    store.save_snapshot("test", 2, "{}").await.unwrap();
    let report = store.verify(|_| {}).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.events, 2);
    let head = report.head_hash.clone();
    // The application role can read everything a backup needs.
    let dir = tempfile::tempdir().unwrap();
    let backup = store
        .backup(&dir.path().join("ledger.jsonl"))
        .await
        .unwrap();
    assert_eq!(backup.events, 2);
    assert_eq!(backup.head_hash.as_deref(), Some(head.as_str()));
    store.shutdown().await;

    let mut conn = PgConnection::connect(&app_url).await.unwrap();
    let who: (String,) = sqlx::query_as("SELECT current_user::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(who.0, app);
    for statement in [
        "ALTER TABLE events DISABLE TRIGGER USER",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "ALTER TABLE snapshots DISABLE TRIGGER USER",
        "DROP TRIGGER events_refuse_update_delete ON events",
        "TRUNCATE events",
        "TRUNCATE snapshots",
        "UPDATE events SET payload = payload",
        "DELETE FROM events",
        "UPDATE snapshots SET payload = payload",
        "DELETE FROM snapshots",
        "DELETE FROM _sqlx_migrations",
        "CREATE TABLE intruder (x INTEGER)",
    ] {
        let refused = sqlx::raw_sql(statement).execute(&mut conn).await;
        let error = refused.expect_err(statement).to_string();
        assert!(
            error.contains("permission denied") || error.contains("must be owner"),
            "{statement}: {error}"
        );
    }
    // The bookkeeping tables stay writable by the application.
    sqlx::raw_sql("UPDATE relay_offsets SET updated_at = 0; DELETE FROM web_sessions")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let store = Store::open(&app_url).await.unwrap();
    let report = store.verify(|_| {}).await.unwrap();
    assert!(report.is_ok() && report.events == 2 && report.head_hash == head);
    store.shutdown().await;
}
