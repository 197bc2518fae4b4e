//! API keys for machine clients: the secret is shown once and only its hash is stored.

use crate::access::{Scope, secret_hash};
use crate::{Service, ServiceResult};
use riskdesk_domain::ApiKeyId;
use riskdesk_store::ApiKeyRecord;

pub const SECRET_PREFIX: &str = "rdk_";

/// A new key: the record as stored and the secret, which exists nowhere else.
pub struct NewKey {
    pub record: ApiKeyRecord,
    pub secret: String,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    b
}

impl Service {
    pub async fn create_api_key(&self, name: &str, scopes: &[Scope]) -> ServiceResult<NewKey> {
        let now = self.now();
        let ulid = ulid::Ulid::from_parts(now.timestamp_millis() as u64, u128::from_le_bytes(random_bytes::<16>()));
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(random_bytes::<32>()));
        let mut scopes: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
        scopes.dedup();
        let record = ApiKeyRecord {
            id: ApiKeyId::from_ulid(&ulid.to_string()),
            name: name.to_owned(),
            scopes,
            secret_hash: secret_hash(&secret),
            created_at: now,
            revoked_at: None,
        };
        self.store.insert_api_key(&record).await?;
        let audit = crate::audit::entry(
            "cli",
            "apikey.create",
            format!("apikey:{}", record.id),
            serde_json::json!({"name": record.name, "scopes": record.scopes}),
            now,
        );
        self.audit_only(audit).await?;
        Ok(NewKey { record, secret })
    }

    pub async fn list_api_keys(&self) -> ServiceResult<Vec<ApiKeyRecord>> {
        Ok(self.store.list_api_keys().await?)
    }

    pub async fn revoke_api_key(&self, id: &ApiKeyId) -> ServiceResult<bool> {
        let done = self.store.revoke_api_key(id, self.now()).await?;
        if done {
            let audit =
                crate::audit::entry("cli", "apikey.revoke", format!("apikey:{id}"), serde_json::json!({}), self.now());
            self.audit_only(audit).await?;
        }
        Ok(done)
    }
}
