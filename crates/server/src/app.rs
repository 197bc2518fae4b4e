//! Opens the configured backend and builds the service: the one place that chooses SQLite or
//! PostgreSQL.

use crate::config::Config;
use anyhow::Context;
use riskdesk_service::{Service, SystemClock};
use riskdesk_store::Store;
use riskdesk_store_postgres::PgStore;
use riskdesk_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;
use std::sync::Arc;

pub const DB_FILE: &str = "riskdesk.db";
pub const KEY_FILE: &str = "entity.key";

pub async fn open_store(cfg: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if cfg.uses_postgres() {
        let store = PgStore::connect(&cfg.database_url, cfg.postgres.max_connections)
            .await
            .context("cannot open the PostgreSQL database")?;
        Ok(Arc::new(store))
    } else {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
        let opts = SqliteOptions {
            synchronous_full: cfg.sqlite.synchronous == "full",
            read_connections: cfg.sqlite.read_connections,
            entity_tail_uses: cfg.sqlite.entity_tail_uses,
        };
        let store =
            SqliteStore::open(&cfg.data_dir.join(DB_FILE), opts).await.context("cannot open the SQLite database")?;
        Ok(Arc::new(store))
    }
}

/// The entity key: from the configuration, or from the key file, which is created once.
pub fn entity_key(cfg: &Config) -> anyhow::Result<Vec<u8>> {
    if !cfg.entity_key.is_empty() {
        return Ok(hex::decode(&cfg.entity_key)?);
    }
    let path = cfg.data_dir.join(KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let key = hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
        anyhow::ensure!(key.len() == 32, "{} must hold 32 bytes", path.display());
        return Ok(key);
    }
    std::fs::create_dir_all(&cfg.data_dir)?;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    write_private(&path, &hex::encode(key))?;
    Ok(key.to_vec())
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot create {}", path.display()))
}

/// A hasher with a random key, for work whose hashes never leave memory (offline scoring, eval).
pub fn ephemeral_hasher() -> anyhow::Result<riskdesk_domain::EntityHasher> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(riskdesk_domain::EntityHasher::new(&key))
}

pub async fn open_service(cfg: &Config) -> anyhow::Result<Service> {
    crate::encryption::install(cfg)?;
    let store = open_store(cfg).await?;
    let key = entity_key(cfg)?;
    let service = Service::new(store, &key, Arc::new(SystemClock)).await?;
    service.set_webhooks(cfg.webhooks.to_service())?;
    service.set_settings(riskdesk_service::Settings {
        cases: cfg.cases.resolve().map_err(anyhow::Error::msg)?,
        disputes: cfg.disputes.clone(),
        qa: cfg.qa.clone(),
        kpis: cfg.kpis.clone(),
        privacy: cfg.privacy.clone(),
        ..cfg.workspace.to_service()
    });
    service.screener().set_record_only(cfg.screening.record_only);
    Ok(service)
}
