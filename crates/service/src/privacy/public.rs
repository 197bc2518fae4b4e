//! The public request page: a person asks by giving the e-mail address they shop with. The
//! account is found through the address's keyed hash and confirmed against the profile on file;
//! the request is entered (channel `web_form`) and a verification code goes to that address, so
//! only its owner can go on. The answer is the same whether or not an account was found, so the
//! page tells nobody whose address is a customer's.

use super::RequestIn;
use super::invalid;
use crate::cases::clean_text;
use crate::{Actor, Service, ServiceResult};
use riskdesk_domain::privacy::Right;
use riskdesk_domain::{Email, EntityKind, EntityRef};
use riskdesk_store::privacy::{Person, Section};
use serde::Deserialize;

/// `POST /api/v1/public/privacy/requests` and the public page's form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicRequestIn {
    /// `access`, `rectification`, `erasure`, `restriction`, `portability` or `objection`.
    pub right: String,
    /// The e-mail address the person shops with.
    pub email: String,
    /// What the person asks for in their words.
    #[serde(default)]
    pub details: String,
}

/// The public channel's actor in timelines and the audit log.
fn public() -> Actor {
    Actor::other("public:privacy")
}

impl Service {
    /// Enters a request from the public page. Answers nothing about whether the address is known;
    /// refuses only malformed input.
    pub async fn submit_public_privacy_request(&self, input: PublicRequestIn) -> ServiceResult<()> {
        let right = Right::parse(input.right.trim()).ok_or_else(|| {
            invalid("right", "must be access, rectification, erasure, restriction, portability or objection")
        })?;
        let given = input.email.trim();
        let email = Email::parse(given, "email").map_err(|_| invalid("email", "is not an e-mail address"))?;
        let details = clean_text("details", &input.details, 4000, false)?;
        let Some(customer_id) = self.customer_by_email(&email, given).await? else {
            return Ok(());
        };
        let input = RequestIn {
            right: right.as_str().into(),
            customer_id,
            received_at: self.now().to_rfc3339(),
            channel: "web_form".into(),
            details,
        };
        let s = self.submit_request_as(&public(), input).await?;
        // A duplicate joined an open request: its code (if any) was sent already.
        if !s.duplicate
            && let Err(e) = self.send_code_as(&public(), &s.request_id).await
        {
            // No mail server, or it refused: the request stands and staff verify by other means.
            tracing::warn!(request = %s.request_id, error = %e, "the verification code of a public request was not sent");
        }
        Ok(())
    }

    /// The account whose profile holds this address (the newest if several do).
    async fn customer_by_email(&self, email: &Email, given: &str) -> ServiceResult<Option<String>> {
        let key = self.hasher().key_of(&EntityRef { kind: EntityKind::Email, value: email.match_key() });
        let mut uses = self.store().accounts_sharing(&key).await?;
        uses.sort_by_key(|u| std::cmp::Reverse(u.last_seen));
        for u in uses.into_iter().take(20) {
            let who = Person { customer_id: u.customer_id.to_string(), match_keys: Vec::new() };
            let rows = self.store().person_rows(Section::Customer, &who, "", 1).await?;
            let on_file = rows.iter().find_map(|r| r.data["email"].as_str().map(str::to_lowercase));
            if on_file.as_deref() == Some(given.to_lowercase().as_str()) {
                return Ok(Some(who.customer_id));
            }
        }
        Ok(None)
    }
}
