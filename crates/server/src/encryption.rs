//! Encryption at rest, the server's part: the key file (outside the database), loading it into the
//! process's key ring, and noticing when it changes, so that keys rotate without a restart.
//!
//! The file holds one key per line, `primary <64 hex>` for the key new values are sealed under
//! and `key <64 hex>` for older ones that still open what was sealed under them. It is created
//! with a fresh primary key on first start. Rotation: `riskdesk encryption rotate` writes a new
//! primary and keeps the old key; running servers reload the file within `reload_seconds` and
//! re-seal stored data in the background; `riskdesk encryption retire ID` drops the old key
//! once nothing is sealed under it. With several servers on one database, `encryption add`
//! first (every server learns the key), then `encryption promote ID`.

use crate::config::Config;
use anyhow::{Context, bail};
use riskdesk_store::seal::{KeyId, Ring};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "field.keys";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionConfig {
    /// Seal personal fields at rest. Off: new values are stored plain; values already sealed
    /// still open as long as their key is in the file.
    pub enabled: bool,
    /// Empty: `data_dir/field.keys`.
    pub key_file: String,
    pub reload_seconds: u64,
}

impl Default for EncryptionConfig {
    fn default() -> Self {
        Self { enabled: true, key_file: String::new(), reload_seconds: 10 }
    }
}

impl EncryptionConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.reload_seconds == 0 {
            return Err("encryption.reload_seconds must be positive".into());
        }
        Ok(())
    }
}

/// The keys of a key file, the primary first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub primary: Option<[u8; 32]>,
    pub others: Vec<[u8; 32]>,
}

impl KeyFile {
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Self> {
        let mut file = KeyFile { primary: None, others: Vec::new() };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("{} line {}", path.display(), n + 1);
            let (role, hex_key) = line
                .split_once(char::is_whitespace)
                .with_context(|| format!("{}: expected \"primary|key <64 hex>\"", at()))?;
            let bytes = hex::decode(hex_key.trim()).with_context(|| format!("{}: the key is not hexadecimal", at()))?;
            let key: [u8; 32] =
                bytes.try_into().map_err(|_| anyhow::anyhow!("{}: a key is 32 bytes (64 hex characters)", at()))?;
            match role {
                "primary" if file.primary.is_some() => bail!("{}: a second primary key", at()),
                "primary" => file.primary = Some(key),
                "key" => file.others.push(key),
                other => bail!("{}: unknown role {other:?} (primary or key)", at()),
            }
        }
        Ok(file)
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# riskdesk field keys (AES-256-GCM). Keep this file outside the database and its backups.\n\
             # primary: seals new values; key: opens values sealed under it. See `riskdesk encryption --help`.\n",
        );
        if let Some(p) = &self.primary {
            out.push_str(&format!("primary {}\n", hex::encode(p)));
        }
        for k in &self.others {
            out.push_str(&format!("key {}\n", hex::encode(k)));
        }
        out
    }

    pub fn ids(&self) -> Vec<KeyId> {
        self.primary.iter().chain(&self.others).map(KeyId::of).collect()
    }

    /// The ring these keys make; `sealing` off keeps the keys for opening only.
    pub fn ring(&self, sealing: bool) -> Ring {
        Ring::new(&self.others, if sealing { self.primary.as_ref() } else { None })
    }
}

pub fn key_path(cfg: &Config) -> PathBuf {
    if cfg.encryption.key_file.is_empty() {
        cfg.data_dir.join(KEY_FILE)
    } else {
        PathBuf::from(&cfg.encryption.key_file)
    }
}

pub fn new_key() -> anyhow::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(key)
}

/// The key file, created with a fresh primary key when encryption is on and there is none.
pub fn read_or_create(cfg: &Config) -> anyhow::Result<KeyFile> {
    let path = key_path(cfg);
    match std::fs::read_to_string(&path) {
        Ok(text) => KeyFile::parse(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let file = KeyFile { primary: cfg.encryption.enabled.then(new_key).transpose()?, others: Vec::new() };
            if file.primary.is_some() {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
                }
                crate::app::write_private(&path, &file.render())?;
            }
            Ok(file)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Replaces the key file (written beside it, then renamed: a reader sees the old or the new).
pub fn write(cfg: &Config, file: &KeyFile) -> anyhow::Result<()> {
    let path = key_path(cfg);
    let tmp = path.with_extension("keys.new");
    let _ = std::fs::remove_file(&tmp);
    crate::app::write_private(&tmp, &file.render())?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Loads the key file into the process's ring.
pub fn install(cfg: &Config) -> anyhow::Result<KeyFile> {
    let file = read_or_create(cfg)?;
    if cfg.encryption.enabled && file.primary.is_none() {
        bail!("{} has no primary key: add one with `riskdesk encryption rotate`", key_path(cfg).display());
    }
    riskdesk_store::seal::install(file.ring(cfg.encryption.enabled));
    Ok(file)
}

/// Watches the key file while the server runs: a changed file is loaded, and stored data is
/// sealed again under a new primary key in the background.
pub fn spawn_reload(cfg: &Config, service: riskdesk_service::Service) {
    let cfg = cfg.clone();
    let path = key_path(&cfg);
    let every = std::time::Duration::from_secs(cfg.encryption.reload_seconds);
    tokio::spawn(async move {
        let stamp = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let mut seen = stamp(&path);
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let now = stamp(&path);
            if now == seen {
                continue;
            }
            seen = now;
            match install(&cfg) {
                Ok(file) => {
                    let primary = file.primary.as_ref().map(|k| KeyId::of(k).hex()).unwrap_or_default();
                    tracing::info!(primary, keys = file.ids().len(), "key file reloaded");
                    service.spawn_reseal_if_needed();
                }
                Err(e) => {
                    tracing::error!(error = %e, "the changed key file cannot be used; the keys loaded before stay")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_round_trips_and_bad_lines_name_their_line() {
        let file = KeyFile { primary: Some([7; 32]), others: vec![[8; 32]] };
        let path = Path::new("field.keys");
        assert_eq!(KeyFile::parse(&file.render(), path).unwrap(), file);
        for (text, says) in [
            ("primary abcd", "line 1: a key is 32 bytes"),
            ("# c\nprimary zz", "line 2: the key is not hexadecimal"),
            (&format!("primary {}\nprimary {}", "00".repeat(32), "11".repeat(32)), "line 2: a second primary"),
            (&format!("main {}", "00".repeat(32)), "unknown role"),
            ("primary", "expected"),
        ] {
            let err = KeyFile::parse(text, path).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
