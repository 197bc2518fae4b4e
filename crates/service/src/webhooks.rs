//! Webhooks out, per the Standard Webhooks convention: each message has an id, a timestamp and a
//! signature `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>` in the `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` headers; secrets are `whsec_<base64>`. Messages
//! are written to the outbox in the transaction of the decision they announce; a deliverer on
//! every instance claims due messages under a lease, so each is sent by one instance at a time,
//! and retries failures with exponential backoff until it gives up.

use crate::{Service, ServiceError, ServiceResult};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use riskdesk_domain::Decision;
use riskdesk_store::{OutboxMessage, PendingMessage};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;

/// A configured receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
    /// `whsec_` followed by base64 of at least 24 random bytes.
    pub secret: String,
}

impl Endpoint {
    pub fn key(&self) -> Result<Vec<u8>, String> {
        let b = self.secret.strip_prefix("whsec_").ok_or("a webhook secret starts with whsec_")?;
        let key = B64.decode(b).map_err(|_| "the webhook secret after whsec_ is not base64".to_owned())?;
        if key.len() < 24 {
            return Err("the webhook secret must hold at least 24 bytes".into());
        }
        Ok(key)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return Err(format!("webhook {}: url must be http(s)://", self.name));
        }
        self.key().map(|_| ()).map_err(|e| format!("webhook {}: {e}", self.name))
    }
}

/// Delivery policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_attempts: i64,
    pub first_retry: Duration,
    pub max_retry: Duration,
    pub timeout: std::time::Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_attempts: 12,
            first_retry: Duration::seconds(5),
            max_retry: Duration::hours(6),
            timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl Policy {
    /// When to try again after `attempts` failed attempts; `None` once they are used up.
    pub fn retry_at(&self, attempts: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 1i64 << (attempts - 1).clamp(0, 20);
        let wait = (self.first_retry * factor as i32).min(self.max_retry);
        Some(now + wait)
    }
}

/// The signature header value.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// Checks a signature header (which may list several, space-separated) in constant time.
pub fn verify(key: &[u8], id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let want = mac.finalize().into_bytes();
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| B64.decode(s).ok())
        .any(|got| got.len() == want.len() && got.iter().zip(want.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    data: &'a Decision,
}

/// Messages announcing a decision, one per endpoint.
pub fn messages_for(endpoints: &[Endpoint], event_type: &str, d: &Decision, now: DateTime<Utc>) -> Vec<OutboxMessage> {
    if endpoints.is_empty() {
        return Vec::new();
    }
    let body = Body { event_type, timestamp: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), data: d };
    let payload = serde_json::to_string(&body).unwrap_or_default();
    endpoints
        .iter()
        .map(|e| OutboxMessage {
            id: format!("msg_{}", ulid::Ulid::new()),
            endpoint: e.name.clone(),
            event_type: event_type.to_owned(),
            payload: payload.clone(),
            created_at: now,
        })
        .collect()
}

/// Outcome of one delivery attempt.
async fn deliver(client: &reqwest::Client, e: &Endpoint, m: &PendingMessage, now: DateTime<Utc>) -> Result<(), String> {
    let key = e.key()?;
    let ts = now.timestamp();
    let resp = client
        .post(&e.url)
        .header("content-type", "application/json")
        .header("webhook-id", &m.id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign(&key, &m.id, ts, &m.payload))
        .body(m.payload.clone())
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    if resp.status().is_success() { Ok(()) } else { Err(format!("status {}", resp.status().as_u16())) }
}

impl Service {
    /// Sends what is due once; returns how many messages were attempted.
    pub async fn deliver_webhooks_once(&self, client: &reqwest::Client) -> ServiceResult<usize> {
        let hooks = self.webhooks();
        let now = self.now();
        let due = self.store().claim_outbox(now, 60_000, 50).await?;
        for m in &due {
            let attempts = m.attempts + 1;
            let result = match hooks.endpoints.iter().find(|e| e.name == m.endpoint) {
                Some(e) => deliver(client, e, m, now).await,
                None => Err(format!("endpoint {} is no longer configured", m.endpoint)),
            };
            match result {
                Ok(()) => {
                    self.store().outbox_delivered(&m.id, self.now()).await?;
                    metrics::counter!("riskdesk_webhooks_total", "outcome" => "delivered").increment(1);
                }
                Err(err) => {
                    let retry = hooks.policy.retry_at(attempts, self.now());
                    tracing::warn!(endpoint = %m.endpoint, attempts, gave_up = retry.is_none(), error = %err, "webhook delivery failed");
                    self.store().outbox_failed(&m.id, attempts, retry, &err, self.now()).await?;
                    metrics::counter!("riskdesk_webhooks_total", "outcome" => "failed").increment(1);
                }
            }
        }
        Ok(due.len())
    }

    /// Delivers webhooks until the process ends (every instance runs one; leases keep them apart).
    pub fn spawn_webhook_deliverer(&self) -> ServiceResult<()> {
        let hooks = self.webhooks();
        if hooks.endpoints.is_empty() {
            return Ok(());
        }
        let client = reqwest::Client::builder()
            .timeout(hooks.policy.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ServiceError::Invalid(format!("webhook client: {e}")))?;
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match me.deliver_webhooks_once(&client).await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "webhook outbox unavailable"),
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        });
        Ok(())
    }
}

/// Endpoints and policy in use.
#[derive(Debug, Clone, Default)]
pub struct Webhooks {
    pub endpoints: Vec<Endpoint>,
    pub policy: Policy,
}

pub type SharedWebhooks = Arc<Webhooks>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let key = B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, &format!("v1,bm9wZQ== {sig}")));
        assert!(!verify(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, &sig));
    }

    #[test]
    fn backoff_doubles_and_gives_up() {
        let p = Policy { max_attempts: 4, ..Policy::default() };
        let t = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(p.retry_at(1, t), Some(t + Duration::seconds(5)));
        assert_eq!(p.retry_at(2, t), Some(t + Duration::seconds(10)));
        assert_eq!(p.retry_at(3, t), Some(t + Duration::seconds(20)));
        assert_eq!(p.retry_at(4, t), None);
        let long = Policy { max_attempts: 20, ..Policy::default() };
        assert_eq!(long.retry_at(11, t), Some(t + Duration::seconds(5 * 1024)));
        assert_eq!(long.retry_at(14, t), Some(t + Duration::hours(6)));
    }
}
