//! Fresh, throw-away PostgreSQL databases for tests, created beside the one named by
//! `RISKDESK_TEST_POSTGRES_URL` and dropped when the guard goes.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub const ENV: &str = "RISKDESK_TEST_POSTGRES_URL";

/// Drops its database when dropped.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

/// Creates an empty database; `None` when `RISKDESK_TEST_POSTGRES_URL` is not set.
pub async fn fresh_database() -> Option<TestDatabase> {
    let admin_url = std::env::var(ENV).ok().filter(|u| !u.is_empty())?;
    // generated here from hex digits only, so safe to splice into DDL
    let name = format!("riskdesk_test_{:016x}", fastrand::u64(..));
    let mut conn = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("{ENV} is set but PostgreSQL is unreachable: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
    let _ = conn.close().await;
    let url = replace_database(&admin_url, &name);
    Some(TestDatabase { admin_url, name, url })
}

/// Replaces the database name in a `postgres://` URL.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; the cleanup needs its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(super::replace_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
