//! Users, passwords and sessions. Passwords are hashed with Argon2id; a session is a random
//! token in a cookie whose SHA-256 is stored, with its own CSRF token, an idle and an absolute
//! timeout, and a fresh token at every sign-in. Failed sign-ins are counted per username and per
//! client address in the database, so the limit holds across instances.

use crate::audit::entry;
use crate::{Analyst, UserAdmin};
use crate::{Service, ServiceError, ServiceResult};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use riskdesk_domain::Role;
use riskdesk_store::changes::{Effect, IdentityChange};
use riskdesk_store::identity::SessionRecord;
pub use riskdesk_store::identity::{TokenRecord, UserRecord};
use sha2::{Digest, Sha256};

/// The cookie value of a session; shown to the browser once, stored only as a hash.
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

/// Why a sign-in failed. Deliberately says nothing about which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password or disabled account: indistinguishable to the caller.
    Invalid,
    /// Too many failures for this username or address in the window.
    Throttled,
}

pub const MIN_PASSWORD_LEN: usize = 12;

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn hash_password(password: &str) -> ServiceResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Invalid(format!("cannot hash the password: {e}")))
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a password nobody has, verified when the user does not exist so that a failed
/// sign-in takes as long either way.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token(24)).unwrap_or_default())
}

pub fn validate_username(name: &str) -> ServiceResult<String> {
    let name = name.trim().to_ascii_lowercase();
    let ok = (2..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(name) } else { Err(ServiceError::Invalid("username: 2-64 characters of a-z 0-9 . _ -".into())) }
}

pub fn validate_password(password: &str) -> ServiceResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServiceError::Invalid(format!("password: at least {MIN_PASSWORD_LEN} characters")));
    }
    Ok(())
}

impl Service {
    /// Creates a user; `password` must be at least 12 characters.
    pub async fn add_user(
        &self,
        cap: &UserAdmin,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> ServiceResult<UserRecord> {
        let username = validate_username(username)?;
        validate_password(password)?;
        let display_name = riskdesk_domain::text::clean(display_name, "display_name", 100)
            .map_err(|e| ServiceError::Invalid(e.detail))?
            .unwrap_or_else(|| username.clone());
        if self.store().user_by_name(&username).await?.is_some() {
            return Err(ServiceError::Conflict(format!("user {username} already exists")));
        }
        let now = self.now();
        let user = UserRecord {
            id: format!("usr_{}", ulid::Ulid::new()),
            username: username.clone(),
            display_name,
            role,
            password_hash: hash_password(password)?,
            created_at: now,
            disabled_at: None,
            time_zone: None,
        };
        let audit = entry(
            &cap.actor().id,
            "user.create",
            format!("user:{username}"),
            serde_json::json!({"role": role.as_str()}),
            now,
        );
        self.commit_audited(&[Effect::Identity(IdentityChange::CreateUser(user.clone()))], &[audit]).await?;
        Ok(user)
    }

    pub async fn set_role(&self, cap: &UserAdmin, username: &str, role: Role) -> ServiceResult<()> {
        let user = self.store().user_by_name(username).await?.ok_or(ServiceError::NotFound("user"))?;
        let audit = entry(
            &cap.actor().id,
            "user.role",
            format!("user:{}", user.username),
            serde_json::json!({"from": user.role.as_str(), "to": role.as_str()}),
            self.now(),
        );
        self.commit_audited(&[Effect::Identity(IdentityChange::SetRole { user_id: user.id, role })], &[audit]).await?;
        // Tokens act with the new role at once on this instance.
        self.api_keys.clear();
        Ok(())
    }

    /// Sets a new password (at least 12 characters).
    pub async fn set_password(&self, cap: &UserAdmin, username: &str, password: &str) -> ServiceResult<()> {
        validate_password(password)?;
        let user = self.store().user_by_name(username).await?.ok_or(ServiceError::NotFound("user"))?;
        let audit = entry(
            &cap.actor().id,
            "user.password",
            format!("user:{}", user.username),
            serde_json::json!({}),
            self.now(),
        );
        let effect =
            Effect::Identity(IdentityChange::SetPassword { user_id: user.id, password_hash: hash_password(password)? });
        self.commit_audited(&[effect], &[audit]).await
    }

    /// Disables an account: it can no longer sign in, and its sessions end now.
    pub async fn disable_user(&self, cap: &UserAdmin, username: &str) -> ServiceResult<()> {
        let user = self.store().user_by_name(username).await?.ok_or(ServiceError::NotFound("user"))?;
        let now = self.now();
        let audit =
            entry(&cap.actor().id, "user.disable", format!("user:{}", user.username), serde_json::json!({}), now);
        self.commit_audited(&[Effect::Identity(IdentityChange::DisableUser { user_id: user.id, at: now })], &[audit])
            .await?;
        // Their tokens stop at once on this instance, not only when the cache entry ages out.
        self.api_keys.clear();
        Ok(())
    }

    pub async fn users(&self, _cap: &UserAdmin) -> ServiceResult<Vec<UserRecord>> {
        Ok(self.store().users().await?)
    }

    /// On a database without users, creates `admin` with a random password and returns it (to
    /// be shown once); `None` when users exist.
    pub async fn ensure_first_admin(&self) -> ServiceResult<Option<(String, String)>> {
        if !self.store().users().await?.is_empty() {
            return Ok(None);
        }
        let password = random_token(18);
        self.add_user(&crate::access::local::user_admin(), "admin", "Administrator", Role::Admin, &password).await?;
        Ok(Some(("admin".into(), password)))
    }

    /// Signs in; on success a new session (a new token, never a reused one).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> ServiceResult<Result<SessionToken, LoginError>> {
        let cfg = self.settings();
        let now = self.now();
        let name = username.trim().to_ascii_lowercase();
        let since = now - cfg.login_window;
        // The attempted name is stored hashed: a password pasted into the username field must
        // not end up in the database.
        let user_key = format!("user:{}", hex::encode(Sha256::digest(name.as_bytes())));
        // The client address is unknown when no listener recorded it (the router called
        // directly); then only the per-user limit applies.
        let ip_key = (!client.is_empty()).then(|| format!("ip:{client}"));
        let store = self.store();
        let ip_failures = match &ip_key {
            Some(k) => store.login_failures_since(k, since).await?,
            None => 0,
        };
        if store.login_failures_since(&user_key, since).await? >= cfg.login_max_per_user
            || ip_failures >= cfg.login_max_per_ip
        {
            return Ok(Err(LoginError::Throttled));
        }
        let user = store.user_by_name(&name).await?;
        let hash = user.as_ref().map_or(dummy_hash(), |u| u.password_hash.as_str()).to_owned();
        let pw = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || password_matches(&hash, &pw))
            .await
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let user = match user {
            Some(u) if matches && u.disabled_at.is_none() => u,
            other => {
                let subjects: Vec<String> = std::iter::once(user_key).chain(ip_key).collect();
                store.record_login_failure(&subjects, now).await?;
                // The audit names the attempted account only if it exists: a typo'd password
                // pasted into the username field must not be stored.
                let subject = other.map_or_else(|| "user:?".to_owned(), |u| format!("user:{}", u.username));
                self.audit_only(entry("anonymous", "session.login_failed", subject, serde_json::json!({}), now))
                    .await?;
                return Ok(Err(LoginError::Invalid));
            }
        };
        let token = random_token(32);
        let session = SessionRecord {
            token_hash: token_hash(&token),
            user_id: user.id.clone(),
            csrf: random_token(32),
            created_at: now,
            last_seen_at: now,
            ended_at: None,
        };
        let audit = entry(
            &format!("user:{}", user.username),
            "session.login",
            format!("user:{}", user.username),
            serde_json::json!({}),
            now,
        );
        self.commit_audited(&[Effect::Identity(IdentityChange::CreateSession(session))], &[audit]).await?;
        Ok(Ok(SessionToken(token)))
    }

    /// The user behind a session cookie, if the session is live: not ended, used within the
    /// idle timeout and younger than the absolute timeout.
    pub async fn session(&self, token: &str) -> ServiceResult<Option<Analyst>> {
        let cfg = self.settings();
        let hash = token_hash(token);
        let Some((s, user)) = self.store().session(&hash).await? else { return Ok(None) };
        let now = self.now();
        if now - s.last_seen_at > cfg.session_idle
            || now - s.created_at > cfg.session_absolute
            || user.disabled_at.is_some()
        {
            return Ok(None);
        }
        // Touch at most once a minute: the idle clock needs no finer grain.
        if now - s.last_seen_at > chrono::Duration::seconds(60) {
            self.store().touch_session(&hash, now).await?;
        }
        let zone = self.zone_of(&user);
        Ok(Some(Analyst { user, via: crate::Via::Session { csrf: s.csrf }, zone }))
    }

    pub async fn logout(&self, token: &str) -> ServiceResult<()> {
        let hash = token_hash(token);
        let Some((_, user)) = self.store().session(&hash).await? else { return Ok(()) };
        let now = self.now();
        let audit = entry(
            &format!("user:{}", user.username),
            "session.logout",
            format!("user:{}", user.username),
            serde_json::json!({}),
            now,
        );
        self.commit_audited(&[Effect::Identity(IdentityChange::EndSession { token_hash: hash, at: now })], &[audit])
            .await
    }
}

/// Personal access tokens start with this, machine keys with `rdk_`: the prefix says which table
/// to look in, and secret scanners can recognise both.
pub const TOKEN_PREFIX: &str = "rdp_";

/// The longest a personal access token may live.
pub const TOKEN_MAX_DAYS: i64 = 366;

/// A new token: its record and the secret, shown once and stored nowhere.
pub struct NewToken {
    pub record: TokenRecord,
    pub secret: String,
}

/// Parses a lifetime such as `30d`, `12h` or `90` (days).
pub fn parse_lifetime(text: &str) -> ServiceResult<chrono::Duration> {
    let t = text.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "d"),
    };
    let n: i64 = num.parse().map_err(|_| ServiceError::Invalid(format!("expires_in: `{t}` is not like 30d or 12h")))?;
    let d = match unit {
        "d" => chrono::Duration::days(n),
        "h" => chrono::Duration::hours(n),
        _ => return Err(ServiceError::Invalid(format!("expires_in: `{t}` is not like 30d or 12h"))),
    };
    if n < 1 || d > chrono::Duration::days(TOKEN_MAX_DAYS) {
        return Err(ServiceError::Invalid(format!("expires_in: from 1h to {TOKEN_MAX_DAYS}d")));
    }
    Ok(d)
}

impl Service {
    /// Creates a personal access token acting as `username` with their role, for the person
    /// themself (signed in) or the local operator (`who` is then the CLI).
    async fn issue_token(
        &self,
        who: &crate::Actor,
        user: &UserRecord,
        name: &str,
        lifetime: Option<chrono::Duration>,
    ) -> ServiceResult<NewToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(ServiceError::Invalid("name: 1 to 80 characters".into()));
        }
        if user.disabled_at.is_some() {
            return Err(ServiceError::Invalid(format!("{} is disabled", user.username)));
        }
        let now = self.now();
        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let record = TokenRecord {
            id: format!("tok_{}", ulid::Ulid::new()),
            user_id: user.id.clone(),
            name: name.to_owned(),
            secret_hash: crate::access::secret_hash(&secret),
            created_at: now,
            expires_at: lifetime.map(|d| now + d),
            revoked_at: None,
        };
        let audit = entry(
            &who.id,
            "token.create",
            format!("user:{}", user.username),
            serde_json::json!({"token": record.id, "name": record.name, "expires_at": record.expires_at}),
            now,
        );
        self.commit_audited(&[Effect::Identity(IdentityChange::CreateToken(record.clone()))], &[audit]).await?;
        Ok(NewToken { record, secret })
    }

    /// A signed-in person creates a token for themself. A token cannot make another: a leaked
    /// token must not be able to outlive its own revocation.
    pub async fn create_own_token(
        &self,
        me: &Analyst,
        name: &str,
        lifetime: Option<chrono::Duration>,
    ) -> ServiceResult<NewToken> {
        if !matches!(me.via(), crate::Via::Session { .. }) {
            return Err(ServiceError::Forbidden("tokens are created when signed in, not with a token".into()));
        }
        self.issue_token(&me.actor(), &me.user, name, lifetime).await
    }

    /// The local operator creates a token for a user (`riskdesk user token create`).
    pub async fn create_token_for(
        &self,
        _cap: &UserAdmin,
        username: &str,
        name: &str,
        lifetime: Option<chrono::Duration>,
    ) -> ServiceResult<NewToken> {
        let user =
            self.store().user_by_name(&validate_username(username)?).await?.ok_or(ServiceError::NotFound("user"))?;
        self.issue_token(&crate::Actor::cli(), &user, name, lifetime).await
    }

    /// A person's own tokens, newest first.
    pub async fn own_tokens(&self, me: &Analyst) -> ServiceResult<Vec<TokenRecord>> {
        Ok(self.store().tokens_of(&me.user.id).await?)
    }

    /// A user's tokens, for the local operator.
    pub async fn tokens_for(&self, _cap: &UserAdmin, username: &str) -> ServiceResult<Vec<TokenRecord>> {
        let user =
            self.store().user_by_name(&validate_username(username)?).await?.ok_or(ServiceError::NotFound("user"))?;
        Ok(self.store().tokens_of(&user.id).await?)
    }

    /// Revokes one of the person's own tokens (or, for user administrators, anyone's).
    pub async fn revoke_token(&self, me: &Analyst, id: &str) -> ServiceResult<()> {
        let mine = self.store().tokens_of(&me.user.id).await?.into_iter().any(|t| t.id == id);
        if !mine && !me.may(riskdesk_domain::Permission::ManageUsers) {
            return Err(ServiceError::NotFound("token"));
        }
        self.revoke(&me.actor(), id).await
    }

    /// Revokes a token as the local operator.
    pub async fn revoke_token_as(&self, _cap: &UserAdmin, id: &str) -> ServiceResult<()> {
        self.revoke(&crate::Actor::cli(), id).await
    }

    async fn revoke(&self, who: &crate::Actor, id: &str) -> ServiceResult<()> {
        if self.store().token_by_id(id).await?.is_none() {
            return Err(ServiceError::NotFound("token"));
        }
        let now = self.now();
        let audit = entry(&who.id, "token.revoke", format!("token:{id}"), serde_json::json!({}), now);
        self.commit_audited(&[Effect::Identity(IdentityChange::RevokeToken { id: id.to_owned(), at: now })], &[audit])
            .await?;
        // The cache forgets every caller, so the revocation holds at once on this instance.
        self.api_keys.clear();
        Ok(())
    }

    /// The person behind a personal access token, if it is live and their account enabled,
    /// and until when it is.
    pub(crate) async fn token_caller(
        &self,
        hash: &[u8],
    ) -> ServiceResult<(Option<crate::Caller>, Option<chrono::DateTime<chrono::Utc>>)> {
        let Some((t, user)) = self.store().token(hash).await? else { return Ok((None, None)) };
        let now = self.now();
        if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) || user.disabled_at.is_some() {
            return Ok((None, None));
        }
        let until = t.expires_at;
        let zone = self.zone_of(&user);
        Ok((Some(crate::Caller::Person(Analyst { user, via: crate::Via::Token { id: t.id }, zone })), until))
    }

    /// A person's time zone: their choice, else the installation's (`workspace.time_zone`).
    fn zone_of(&self, user: &UserRecord) -> chrono_tz::Tz {
        user.time_zone.as_deref().and_then(|z| z.parse().ok()).unwrap_or_else(|| self.settings().time_zone)
    }

    /// A person chooses the time zone their pages show times in; `None` or an empty name goes
    /// back to the installation's default.
    pub async fn set_own_time_zone(&self, who: &Analyst, zone: Option<&str>) -> ServiceResult<Option<String>> {
        let zone = match zone.map(str::trim).filter(|z| !z.is_empty()) {
            None => None,
            Some(z) => Some(
                z.parse::<chrono_tz::Tz>()
                    .map_err(|_| {
                        ServiceError::Invalid(format!(
                            "time_zone: unknown time zone {z:?} (an IANA name such as Europe/Berlin)"
                        ))
                    })?
                    .name()
                    .to_owned(),
            ),
        };
        let now = self.now();
        let audit = entry(
            &format!("user:{}", who.user.username),
            "user.time_zone",
            format!("user:{}", who.user.username),
            serde_json::json!({"time_zone": zone}),
            now,
        );
        self.commit_audited(
            &[Effect::Identity(IdentityChange::SetTimeZone { user_id: who.user.id.clone(), time_zone: zone.clone() })],
            &[audit],
        )
        .await?;
        // Tokens resolved before carry the old zone.
        self.api_keys.clear();
        Ok(zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches(&h, "correct horse battery"));
        assert!(!password_matches(&h, "correct horse batterY"));
        assert!(!password_matches("not a hash", "x"));
    }

    #[test]
    fn usernames() {
        assert_eq!(validate_username(" Ana.Lyst ").unwrap(), "ana.lyst");
        assert!(validate_username("a").is_err());
        assert!(validate_username("<script>").is_err());
        assert!(validate_password("short").is_err());
    }
}
