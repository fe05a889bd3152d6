//! Throwaway databases for tests, on both backends.
//!
//! PostgreSQL tests use a fresh schema in the database named by `ENGAGEMENTS_TEST_POSTGRES`
//! (default `postgres://postgres@127.0.0.1:5432/test`). When that server cannot be reached they
//! are skipped with a message, except under `CI=true`, where they fail: CI must test both backends.

use sqlx::Connection;

/// A database for one test.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The URL to give to [`crate::Store::open`].
    pub url: String,
}

/// The PostgreSQL server used by tests.
pub fn postgres_base_url() -> String {
    std::env::var("ENGAGEMENTS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A new, empty SQLite file under the system's temporary directory.
pub fn sqlite() -> TestDb {
    let path = std::env::temp_dir().join(format!("engagements-test-{}.db", uuid::Uuid::now_v7()));
    TestDb {
        backend: "sqlite",
        url: format!("sqlite://{}", path.display()),
    }
}

/// A new, empty schema on the test PostgreSQL server; `None` (skip) if the server is unreachable
/// outside CI. Panics in CI when the server is unreachable.
pub async fn postgres() -> Option<TestDb> {
    let base = postgres_base_url();
    let base_plain = with_sslmode(&base);
    let mut connection = match sqlx::PgConnection::connect(&base_plain).await {
        Ok(c) => c,
        Err(error) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required in CI but {base} is unreachable: {error}");
            }
            eprintln!("skipping PostgreSQL tests: {base} is unreachable ({error})");
            return None;
        }
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut connection)
        .await
        .expect("create a test schema");
    let separator = if base_plain.contains('?') { '&' } else { '?' };
    Some(TestDb {
        backend: "postgres",
        url: format!("{base_plain}{separator}options=-csearch_path%3D{schema}"),
    })
}

/// One database per backend: SQLite always, PostgreSQL when reachable (always in CI).
pub async fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    dbs.extend(postgres().await);
    dbs
}

fn with_sslmode(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}
