//! Shared by the API test files: a real router over a fresh real store (SQLite always,
//! PostgreSQL when RISKDESK_TEST_POSTGRES_URL is set).
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskdesk_domain::FixedClock;
use riskdesk_server::config::{Config, Overrides};
use riskdesk_service::{Scope, Service};
use riskdesk_store::Store;
pub use riskdesk_store::conformance::t0;
use riskdesk_store_postgres::PgStore;
use riskdesk_store_postgres::testing::{TestDatabase, fresh_database};
use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub enum Guard {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Pg(#[allow(dead_code)] TestDatabase),
    /// The caller keeps the database alive.
    None,
}

pub struct TestApp {
    pub router: Router,
    pub intake_key: String,
    pub read_key: String,
    pub full_key: String,
    pub rules_key: String,
    pub service: Service,
    /// The service's clock: tests move it.
    pub clock: Arc<FixedClock>,
    pub _guard: Guard,
}

impl TestApp {
    /// Publishes a saved version the way people do: an analyst proposes in the workspace, a
    /// risk expert approves.
    #[allow(dead_code)]
    pub async fn publish_with_four_eyes(&self, version: i64) {
        let cap = riskdesk_service::access::local::user_admin();
        if self.service.store().user_by_name("maker").await.unwrap().is_none() {
            self.service
                .add_user(&cap, "maker", "Maker", riskdesk_domain::Role::FraudAnalyst, "maker-password-1")
                .await
                .unwrap();
        }
        let token = self.service.login("maker", "maker-password-1", "").await.unwrap().unwrap();
        let analyst = self.service.session(&token.0).await.unwrap().unwrap();
        self.service.propose_publish(&analyst.rules_admin().unwrap(), version).await.unwrap();
        self.approve_pending().await;
    }

    /// Approves every pending four-eye proposal as a second person (a risk expert).
    #[allow(dead_code)]
    pub async fn rollback_with_four_eyes(&self) {
        let token = self.service.login("maker", "maker-password-1", "").await.unwrap().unwrap();
        let analyst = self.service.session(&token.0).await.unwrap().unwrap();
        self.service.propose_rollback(&analyst.rules_admin().unwrap(), "a test rolls back").await.unwrap();
        self.approve_pending().await;
    }

    #[allow(dead_code)]
    pub async fn approve_pending(&self) {
        let cap = riskdesk_service::access::local::user_admin();
        if self.service.store().user_by_name("checker").await.unwrap().is_none() {
            self.service
                .add_user(&cap, "checker", "Checker", riskdesk_domain::Role::RiskExpert, "checker-password-1")
                .await
                .unwrap();
        }
        let token = self.service.login("checker", "checker-password-1", "").await.unwrap().unwrap();
        let analyst = self.service.session(&token.0).await.unwrap().unwrap();
        let approver = analyst.approver().unwrap();
        for p in self.service.proposals(true).await.unwrap() {
            self.service.approve_proposal(&approver, &p.id, &p.payload_hash, None).await.unwrap();
        }
    }
}

pub async fn app_on(store: Arc<dyn Store>, guard: Guard) -> TestApp {
    riskdesk_store::seal::install(riskdesk_store::conformance::test_ring());
    let clock = Arc::new(FixedClock::new(t0()));
    let service = Service::new(store, &[9u8; 32], clock.clone()).await.unwrap();
    let intake_key = service.create_api_key("shop", &[Scope::Intake]).await.unwrap().secret;
    let read_key = service.create_api_key("reader", &[Scope::Read]).await.unwrap().secret;
    let full_key = service.create_api_key("both", &[Scope::Intake, Scope::Read]).await.unwrap().secret;
    let rules_key = service.create_api_key("analyst", &[Scope::Read, Scope::Rules]).await.unwrap().secret;
    let cfg = Config::load(None, &Overrides::default()).unwrap();
    TestApp {
        router: riskdesk_server::http::router(service.clone(), &cfg),
        intake_key,
        read_key,
        full_key,
        rules_key,
        service,
        clock,
        _guard: guard,
    }
}

pub async fn sqlite_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db"), SqliteOptions::default()).await.unwrap();
    app_on(Arc::new(store), Guard::Dir(dir)).await
}

pub async fn pg_app() -> Option<TestApp> {
    let db = fresh_database().await?;
    let store = PgStore::connect(&db.url, 4).await.unwrap();
    Some(app_on(Arc::new(store), Guard::Pg(db)).await)
}

impl TestApp {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        let req = req.body(body.map(Body::from).unwrap_or_else(Body::empty)).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, v)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(&self.full_key), Some(serde_json::to_vec(body).unwrap())).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(&self.full_key), None).await
    }
}

/// Runs a test body on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let app = sqlite_app().await;
                ($body)(app).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(app) = pg_app().await else { return };
                ($body)(app).await;
            }
        }
    };
}

/// Runs the real binary on the SQLite database in `dir`: (succeeded, stdout, stderr).
pub fn riskdesk_in(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_riskdesk"))
        .env_remove("RISKDESK_DATABASE_URL")
        .env("RUST_LOG", "error")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
