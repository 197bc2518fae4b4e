//! Users, sessions, sign-in failures and personal access tokens.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use riskdesk_domain::Role;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The zone pages show this person's times in (IANA name); none: the installation's default.
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie token.
    pub token_hash: Vec<u8>,
    pub user_id: String,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A personal access token: acts as its user, with the user's current role, until it expires
/// or is revoked. Only the secret's SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A change to people and their credentials, applied with its audit entries.
#[derive(Debug, Clone)]
pub enum IdentityChange {
    CreateUser(UserRecord),
    /// The person's own choice of time zone (none: the default).
    SetTimeZone {
        user_id: String,
        time_zone: Option<String>,
    },
    SetRole {
        user_id: String,
        role: Role,
    },
    /// Sets a password and ends the user's sessions.
    SetPassword {
        user_id: String,
        password_hash: String,
    },
    /// Disables the account and ends its sessions.
    DisableUser {
        user_id: String,
        at: DateTime<Utc>,
    },
    CreateSession(SessionRecord),
    EndSession {
        token_hash: Vec<u8>,
        at: DateTime<Utc>,
    },
    CreateToken(TokenRecord),
    RevokeToken {
        id: String,
        at: DateTime<Utc>,
    },
}

/// Machine keys (shops, helpdesks, scripts): stored as a hash of the secret.
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn insert_api_key(&self, key: &crate::ApiKeyRecord) -> StoreResult<()>;
    async fn find_api_key(&self, secret_hash: &[u8]) -> StoreResult<Option<crate::ApiKeyRecord>>;
    async fn list_api_keys(&self) -> StoreResult<Vec<crate::ApiKeyRecord>>;
    /// Returns false when no such active key exists.
    async fn revoke_api_key(&self, id: &riskdesk_domain::ApiKeyId, at: DateTime<Utc>) -> StoreResult<bool>;
}

#[async_trait]
pub trait IdentityStore: Send + Sync {
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    async fn users(&self) -> StoreResult<Vec<UserRecord>>;
    /// A live session and its user (whatever its age: the caller applies the timeouts).
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>>;
    async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> StoreResult<()>;

    async fn record_login_failure(&self, subjects: &[String], at: DateTime<Utc>) -> StoreResult<()>;
    async fn login_failures_since(&self, subject: &str, since: DateTime<Utc>) -> StoreResult<i64>;

    /// A personal access token by its secret's hash, with its user (whatever its state: the
    /// caller checks expiry, revocation and the user's account).
    async fn token(&self, secret_hash: &[u8]) -> StoreResult<Option<(TokenRecord, UserRecord)>>;
    /// A token by its id.
    async fn token_by_id(&self, id: &str) -> StoreResult<Option<TokenRecord>>;
    /// A user's tokens, newest first.
    async fn tokens_of(&self, user_id: &str) -> StoreResult<Vec<TokenRecord>>;
}
