//! A created token's secret, held for the one page view that shows it. The create form
//! redirects (POST/redirect/GET) to `/tokens?done=created&id=NONCE`; that view takes the secret
//! out of this store, so a reload, the back button or a copied link never shows it again, and a
//! reload never creates a second token. Held in this process's memory only (never stored, never
//! in a URL) for a few minutes, bound to the person who created it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How long a secret waits for its page view (a redirect takes milliseconds).
const HOLD: Duration = Duration::from_secs(300);

struct Held {
    user_id: String,
    secret: String,
    until: Instant,
}

static HELD: LazyLock<Mutex<HashMap<String, Held>>> = LazyLock::new(Default::default);

/// Holds `secret` for `user_id`; returns the nonce that takes it.
pub fn hold(user_id: &str, secret: String) -> anyhow::Result<String> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let nonce = hex::encode(nonce);
    let now = Instant::now();
    let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    held.retain(|_, h| h.until > now);
    held.insert(nonce.clone(), Held { user_id: user_id.to_owned(), secret, until: now + HOLD });
    Ok(nonce)
}

/// The secret held under `nonce` for `user_id`, removed as it is returned; `None` when it was
/// taken already, expired, or belongs to someone else (then it stays for its owner).
pub fn take(user_id: &str, nonce: &str) -> Option<String> {
    let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
    match held.get(nonce) {
        Some(h) if h.user_id == user_id && h.until > Instant::now() => held.remove(nonce).map(|h| h.secret),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_taken_once_and_only_by_its_owner() {
        let nonce = hold("u-1", "rdp_secret".into()).unwrap();
        assert_eq!(take("u-2", &nonce), None);
        assert_eq!(take("u-1", &nonce).as_deref(), Some("rdp_secret"));
        assert_eq!(take("u-1", &nonce), None);
        assert_eq!(take("u-1", "not-a-nonce"), None);
    }
}
