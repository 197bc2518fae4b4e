//! Logs go to stderr as text or JSON. Spans carry ids and routes, never personal data.

use crate::config::Config;
use tracing_subscriber::EnvFilter;

pub fn init(cfg: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("RUST_LOG").or_else(|_| EnvFilter::try_new(&cfg.log_level))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if cfg.log_format == "json" { builder.json().try_init() } else { builder.compact().try_init() };
    result.map_err(|e| anyhow::anyhow!("cannot initialise logging: {e}"))
}
