//! Authorisation in types: an operation that needs a right takes a capability value, and the
//! only way to obtain one is to hold a principal with the matching scope.

use crate::{Service, ServiceResult};
use riskdesk_store::ApiKeyRecord;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// A right that an API key can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Send orders and events.
    Intake,
    /// Read orders and customers.
    Read,
    /// Write, test and publish rule sets; manage block and allow lists.
    Rules,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Intake, Scope::Read, Scope::Rules];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::Read => "read",
            Self::Rules => "rules",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Who is calling: an API key with its scopes (users and roles join later).
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: String,
    scopes: Vec<Scope>,
}

/// The right to send orders and events.
#[derive(Debug)]
pub struct Intake(());

/// The right to read orders and customers.
#[derive(Debug)]
pub struct ReadAccess(());

/// The right to change screening: rule sets and lists. Who acts is recorded with each change.
#[derive(Debug)]
pub struct RulesAdmin {
    pub actor: String,
    /// The local operator (CLI), who holds the database's own rights.
    pub(crate) local: bool,
}

impl Principal {
    fn from_record(r: &ApiKeyRecord) -> Self {
        Self { key_id: r.id.to_string(), scopes: r.scopes.iter().filter_map(|s| Scope::parse(s)).collect() }
    }

    pub fn intake(&self) -> Option<Intake> {
        self.scopes.contains(&Scope::Intake).then_some(Intake(()))
    }

    pub fn read(&self) -> Option<ReadAccess> {
        self.scopes.contains(&Scope::Read).then_some(ReadAccess(()))
    }

    pub fn rules(&self) -> Option<RulesAdmin> {
        self.scopes
            .contains(&Scope::Rules)
            .then(|| RulesAdmin { actor: format!("apikey:{}", self.key_id), local: false })
    }
}

/// Capabilities for trusted local operators (the CLI runs with the database's own rights).
pub mod local {
    pub fn intake() -> super::Intake {
        super::Intake(())
    }
    pub fn read() -> super::ReadAccess {
        super::ReadAccess(())
    }
    /// `actor` is recorded with every change (the operating-system user for the CLI).
    pub fn rules(actor: &str) -> super::RulesAdmin {
        super::RulesAdmin { actor: actor.to_owned(), local: true }
    }
}

/// How long a looked-up key is trusted before the database is asked again; bounds how long a
/// revoked key keeps working on an instance.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// Secret hash → the principal it resolved to (or `None`: unknown) and when it was looked up.
type CacheMap = HashMap<Vec<u8>, (Option<Principal>, Instant)>;

#[derive(Default)]
pub(crate) struct KeyCache {
    entries: RwLock<CacheMap>,
}

/// API keys are 256-bit random secrets, so a plain SHA-256 is the right hash: a slow password
/// hash would only cost latency on every request without adding security.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl Service {
    /// Resolves a bearer secret to a principal; `None` for unknown or revoked keys.
    pub async fn authenticate(&self, secret: &str) -> ServiceResult<Option<Principal>> {
        let hash = secret_hash(secret);
        if let Some((p, at)) = self.api_keys.entries.read().unwrap_or_else(|e| e.into_inner()).get(&hash)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(p.clone());
        }
        let record = self.store.find_api_key(&hash).await?;
        let principal = record.filter(|r| r.revoked_at.is_none()).map(|r| Principal::from_record(&r));
        let mut map = self.api_keys.entries.write().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.clear(); // bounded: guessing attackers must not grow memory
        }
        map.insert(hash, (principal.clone(), Instant::now()));
        Ok(principal)
    }
}
