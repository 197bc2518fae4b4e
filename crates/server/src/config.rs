//! Layered, validated configuration: the commented default file, an optional file,
//! `RISKDESK_*` environment variables and command-line flags, checked once at start-up.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_FILE: &str = include_str!("../config.default.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: String,
    pub entity_key: String,
    pub log_format: String,
    pub log_level: String,
    pub sqlite: SqliteConfig,
    pub postgres: PostgresConfig,
    pub http: HttpConfig,
    pub screening: ScreeningConfig,
    pub webhooks: WebhooksConfig,
    pub workspace: WorkspaceSettings,
    #[serde(default)]
    pub cases: riskdesk_service::cases::CasesConfig,
    #[serde(default)]
    pub disputes: riskdesk_service::disputes::DisputesConfig,
    #[serde(default)]
    pub qa: riskdesk_service::qa::QaConfig,
    #[serde(default)]
    pub kpis: riskdesk_service::kpis::KpisConfig,
    #[serde(default)]
    pub privacy: riskdesk_service::privacy::PrivacyConfig,
    #[serde(default)]
    pub encryption: crate::encryption::EncryptionConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSettings {
    pub cancel_four_eyes_from: i64,
    pub proposal_ttl_hours: i64,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub login_max_per_user: i64,
    pub login_max_per_ip: i64,
    pub login_window_minutes: i64,
    pub secure_cookies: String,
    pub sla_default_minutes: i64,
    #[serde(default)]
    pub sla_minutes: std::collections::BTreeMap<String, i64>,
    pub time_zone: String,
}

impl WorkspaceSettings {
    pub fn to_service(&self) -> riskdesk_service::settings::Settings {
        use chrono::Duration;
        riskdesk_service::settings::Settings {
            sla: riskdesk_domain::SlaPolicy {
                default_minutes: self.sla_default_minutes,
                per_channel: self.sla_minutes.clone(),
            },
            cancel_four_eyes_from: self.cancel_four_eyes_from,
            proposal_ttl: Duration::hours(self.proposal_ttl_hours),
            session_idle: Duration::minutes(self.session_idle_minutes),
            session_absolute: Duration::hours(self.session_absolute_hours),
            login_max_per_user: self.login_max_per_user,
            login_max_per_ip: self.login_max_per_ip,
            login_window: Duration::minutes(self.login_window_minutes),
            time_zone: self.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin),
            cases: Default::default(),
            disputes: Default::default(),
            qa: Default::default(),
            kpis: Default::default(),
            privacy: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    pub max_attempts: i64,
    pub first_retry_secs: i64,
    #[serde(default)]
    pub endpoints: Vec<riskdesk_service::webhooks::Endpoint>,
}

impl WebhooksConfig {
    pub fn to_service(&self) -> riskdesk_service::webhooks::Webhooks {
        riskdesk_service::webhooks::Webhooks {
            endpoints: self.endpoints.clone(),
            policy: riskdesk_service::webhooks::Policy {
                max_attempts: self.max_attempts,
                first_retry: chrono::Duration::seconds(self.first_retry_secs),
                ..Default::default()
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    pub synchronous: String,
    pub read_connections: u32,
    /// Entity uses held in memory before they are merged into the entity index.
    pub entity_tail_uses: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningConfig {
    pub record_only: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub body_limit: usize,
    pub request_timeout_secs: u64,
    pub backtest_timeout_secs: u64,
}

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

/// Environment variables with the prefix that are not settings (read by tests).
const NOT_SETTINGS: &[&str] = &["TEST_POSTGRES_URL"];

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Toml::string(DEFAULT_FILE));
        match file {
            Some(f) => {
                if !f.exists() {
                    bail!("configuration file {} does not exist", f.display());
                }
                fig = fig.merge(Toml::file(f));
            }
            None => fig = fig.merge(Toml::file("riskdesk.toml")),
        }
        let cfg: Config = fig
            .merge(Env::prefixed("RISKDESK_").split("__").ignore(NOT_SETTINGS))
            .merge(Serialized::defaults(overrides))
            .extract()
            .context("invalid configuration")?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        if !(self.database_url.is_empty()
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            bail!("database_url must be empty (SQLite) or a postgres:// URL");
        }
        let key_ok = self.entity_key.len() == 64 && hex::decode(&self.entity_key).is_ok();
        if !self.entity_key.is_empty() && !key_ok {
            bail!("entity_key must be 64 hexadecimal characters");
        }
        if !matches!(self.sqlite.synchronous.as_str(), "normal" | "full") {
            bail!("sqlite.synchronous must be \"normal\" or \"full\"");
        }
        if !(1_000..=100_000_000).contains(&self.sqlite.entity_tail_uses) {
            bail!("sqlite.entity_tail_uses must be between 1000 and 100000000");
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("log_format must be \"text\" or \"json\"");
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.http.body_limit) {
            bail!("http.body_limit must be between 1 KiB and 64 MiB");
        }
        if self.http.request_timeout_secs == 0 {
            bail!("http.request_timeout_secs must be positive");
        }
        if self.http.backtest_timeout_secs == 0 {
            bail!("http.backtest_timeout_secs must be positive");
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level).context("log_level is not a valid filter")?;
        if !(1..=50).contains(&self.webhooks.max_attempts) || self.webhooks.first_retry_secs < 1 {
            bail!("webhooks.max_attempts must be 1-50 and webhooks.first_retry_secs positive");
        }
        let w = &self.workspace;
        if w.cancel_four_eyes_from < 0 {
            bail!("workspace.cancel_four_eyes_from must not be negative");
        }
        for (name, v) in [
            ("proposal_ttl_hours", w.proposal_ttl_hours),
            ("session_idle_minutes", w.session_idle_minutes),
            ("session_absolute_hours", w.session_absolute_hours),
            ("login_max_per_user", w.login_max_per_user),
            ("login_max_per_ip", w.login_max_per_ip),
            ("login_window_minutes", w.login_window_minutes),
            ("sla_default_minutes", w.sla_default_minutes),
        ] {
            if v <= 0 {
                bail!("workspace.{name} must be positive");
            }
        }
        if w.sla_minutes.values().any(|m| *m <= 0) {
            bail!("workspace.sla_minutes: every channel's minutes must be positive");
        }
        if w.time_zone.parse::<chrono_tz::Tz>().is_err() {
            bail!("workspace.time_zone: unknown time zone {:?} (an IANA name such as Europe/Berlin)", w.time_zone);
        }
        if !matches!(w.secure_cookies.as_str(), "auto" | "always" | "never") {
            bail!("workspace.secure_cookies must be \"auto\", \"always\" or \"never\"");
        }
        self.cases.resolve().map_err(|m| anyhow::anyhow!(m))?;
        self.disputes.check().map_err(|m| anyhow::anyhow!(m))?;
        self.qa.check().map_err(|m| anyhow::anyhow!(m))?;
        self.kpis.check().map_err(|m| anyhow::anyhow!(m))?;
        self.privacy.check().map_err(|m| anyhow::anyhow!(m))?;
        self.encryption.check().map_err(|m| anyhow::anyhow!(m))?;
        for e in &self.webhooks.endpoints {
            e.validate().map_err(|m| anyhow::anyhow!("webhooks.endpoints: {m}"))?;
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| format!("listen address {:?} is not host:port", self.listen))
    }

    pub fn uses_postgres(&self) -> bool {
        !self.database_url.is_empty()
    }

    /// The configuration as it would be printed, with secrets blanked.
    pub fn redacted(&self) -> Self {
        let mut c = self.clone();
        if !c.entity_key.is_empty() {
            c.entity_key = "<set>".into();
        }
        for e in &mut c.webhooks.endpoints {
            e.secret = "<set>".into();
        }
        for s in [&mut c.disputes.stripe.webhook_secret, &mut c.disputes.adyen.hmac_key] {
            if !s.is_empty() {
                *s = "<set>".into();
            }
        }
        mask_password(&mut c.database_url);
        mask_password(&mut c.kpis.reports.smtp_url);
        c
    }
}

/// Blanks the password of a `scheme://user:password@host` URL.
fn mask_password(url: &mut String) {
    if let Some(at) = url.find('@') {
        let scheme_end = url.find("://").map_or(0, |i| i + 3);
        if let Some(colon) = url[scheme_end..at].find(':') {
            url.replace_range(scheme_end + colon + 1..at, "***");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_validate() {
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.http.body_limit, 1024 * 1024);
    }

    #[test]
    fn bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (body, needle) in [
            ("listen = \"nowhere\"", "listen"),
            ("database_url = \"mysql://x\"", "database_url"),
            ("entity_key = \"abc\"", "entity_key"),
            ("[sqlite]\nsynchronous = \"sometimes\"", "synchronous"),
            ("unknown_key = 1", "unknown"),
            ("[cases.calendar]\ntimezone = \"Mars/Base\"\nhours = \"mon 08:00-09:00\"", "timezone"),
            ("[cases.budgets.\"nope.high\"]\nfirst_response_hours = 1\nresolution_hours = 2", "nope"),
        ] {
            let f = dir.path().join("c.toml");
            std::fs::write(&f, body).unwrap();
            let e = format!("{:#}", Config::load(Some(&f), &Overrides::default()).unwrap_err());
            assert!(e.contains(needle), "{body}: {e}");
        }
    }

    #[test]
    fn flags_win_and_secrets_are_redacted() {
        let o = Overrides { database_url: Some("postgres://u:secret@h/db".into()), ..Default::default() };
        let c = Config::load(None, &o).unwrap();
        assert!(c.uses_postgres());
        assert_eq!(c.redacted().database_url, "postgres://u:***@h/db");
    }
}
