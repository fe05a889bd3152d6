//! API tokens on both backends: only hashes are stored, revocation sticks, bad fields are refused.

use engagements_store::testing;
use engagements_store::tokens::{hash_secret, TokenError, SECRET_PREFIX};
use engagements_store::Store;
use sqlx::Connection;

#[tokio::test]
async fn tokens_store_only_hashes_and_revoke_once() {
    for db in testing::all().await {
        let store = Store::open(&db.url).await.unwrap();
        let created = store
            .create_token("Agent Test", "etat", "instructeur")
            .await
            .unwrap();
        assert!(created.secret.starts_with(SECRET_PREFIX), "{}", db.backend);
        assert_eq!(created.secret.len(), SECRET_PREFIX.len() + 64);

        let found = store.find_token(&created.secret).await.unwrap().unwrap();
        assert_eq!(found, created.record, "{}", db.backend);
        assert!(found.is_active());
        assert!(store.find_token("eng_wrong").await.unwrap().is_none());
        assert!(store.find_token("").await.unwrap().is_none());
        assert!(store
            .find_token(&"x".repeat(10_000))
            .await
            .unwrap()
            .is_none());

        // The secret is nowhere in the database, its hash is.
        let dump = dump_tokens_table(&db.url).await;
        assert!(!dump.contains(&created.secret), "{}", db.backend);
        assert!(
            dump.contains(&hash_secret(&created.secret)),
            "{}",
            db.backend
        );

        assert!(store.revoke_token(created.record.token_id).await.unwrap());
        assert!(!store.revoke_token(created.record.token_id).await.unwrap());
        let revoked = store.find_token(&created.secret).await.unwrap().unwrap();
        assert!(!revoked.is_active(), "{}", db.backend);
        assert_eq!(store.list_tokens().await.unwrap(), vec![revoked]);

        // The event log is untouched by tokens.
        assert!(store.head().await.unwrap().is_none(), "{}", db.backend);
        store.shutdown().await;
    }
}

#[tokio::test]
async fn tokens_refuse_empty_or_huge_fields() {
    for db in testing::all().await {
        let store = Store::open(&db.url).await.unwrap();
        let empty = store.create_token("  ", "etat", "admin").await.unwrap_err();
        assert!(matches!(
            empty,
            TokenError::BadField {
                field: "person",
                ..
            }
        ));
        let huge = store
            .create_token("A", &"o".repeat(201), "admin")
            .await
            .unwrap_err();
        assert!(matches!(
            huge,
            TokenError::BadField {
                field: "organisation",
                ..
            }
        ));
        assert!(
            store.list_tokens().await.unwrap().is_empty(),
            "{}",
            db.backend
        );
        store.shutdown().await;
    }
}

async fn dump_tokens_table(url: &str) -> String {
    let query = "SELECT token_id || secret_hash || person || organisation || role FROM api_tokens";
    if url.starts_with("sqlite") {
        let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(query)
            .fetch_all(&mut connection)
            .await
            .unwrap();
        rows.into_iter().map(|r| r.0).collect()
    } else {
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(query)
            .fetch_all(&mut connection)
            .await
            .unwrap();
        rows.into_iter().map(|r| r.0).collect()
    }
}
