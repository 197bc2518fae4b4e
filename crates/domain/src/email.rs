//! E-mail addresses: validated once, kept as written for display, and reduced to a match key
//! that is identical for every spelling a mailbox provider delivers to the same inbox.

use crate::FieldError;
use serde::Deserialize;
use std::fmt;

pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

serialize_as_str!(Email, as_str);

/// Providers that deliver `name+tag@` to `name@`.
const PLUS_TAG_PROVIDERS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "outlook.de",
    "hotmail.com",
    "hotmail.de",
    "hotmail.fr",
    "live.com",
    "live.de",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "fastmail.com",
    "fastmail.fm",
    "yandex.com",
    "yandex.ru",
    "zoho.com",
    "posteo.de",
    "mailbox.org",
];

/// Providers that also ignore dots in the local part.
const DOT_BLIND_PROVIDERS: &[&str] = &["gmail.com"];

/// Domains that are another name of the same provider.
const DOMAIN_ALIASES: &[(&str, &str)] = &[("googlemail.com", "gmail.com")];

impl Email {
    pub fn parse(value: &str, field: impl std::fmt::Display + Copy) -> Result<Self, FieldError> {
        let v = value.trim();
        let invalid = || FieldError::new("invalid_email", field, format!("{field} is not a valid e-mail address"));
        if v.len() > MAX_EMAIL_LEN {
            return Err(FieldError::new(
                "too_long",
                field,
                format!("{field} is longer than {MAX_EMAIL_LEN} characters"),
            ));
        }
        if !email_address::EmailAddress::is_valid(v) || v.starts_with('"') || v.contains(['<', '>', ' ']) {
            return Err(invalid());
        }
        let (local, domain) = v.rsplit_once('@').ok_or_else(invalid)?;
        if !domain.contains('.') || domain.starts_with('[') {
            return Err(invalid());
        }
        let mut email = String::with_capacity(v.len());
        email.push_str(local);
        email.push('@');
        email.push_str(domain);
        email[local.len() + 1..].make_ascii_lowercase();
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    /// The key under which spellings of one inbox match: lower case; provider aliases folded;
    /// `+tags` removed where the provider ignores them; dots removed for Gmail.
    pub fn match_key(&self) -> String {
        let lower = self.0.to_lowercase();
        let Some((local, domain)) = lower.rsplit_once('@') else { return lower };
        let domain = DOMAIN_ALIASES.iter().find(|(a, _)| *a == domain).map(|(_, c)| *c).unwrap_or(domain);
        let mut local = local.to_owned();
        if PLUS_TAG_PROVIDERS.contains(&domain)
            && let Some(i) = local.find('+')
        {
            local.truncate(i);
        }
        if DOT_BLIND_PROVIDERS.contains(&domain) {
            local.retain(|c| c != '.');
        }
        local.push('@');
        local.push_str(domain);
        local
    }
}

impl TryFrom<String> for Email {
    type Error = FieldError;
    fn try_from(v: String) -> Result<Self, FieldError> {
        Self::parse(&v, "email")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(s: &str) -> String {
        Email::parse(s, "email").unwrap().match_key()
    }

    #[test]
    fn folds_provider_spellings() {
        assert_eq!(key("Anna.Beispiel+shop@GoogleMail.com"), "annabeispiel@gmail.com");
        assert_eq!(key("a.n.n.a@gmail.com"), key("anna@gmail.com"));
        assert_eq!(key("anna+x@outlook.com"), "anna@outlook.com");
        // dots matter at other providers; tags are kept where the provider may not ignore them
        assert_ne!(key("a.nna@web.de"), key("anna@web.de"));
        assert_eq!(key("anna+x@example.com"), "anna+x@example.com");
        assert_eq!(key("ANNA@Example.COM"), "anna@example.com");
    }

    #[test]
    fn rejects_invalid_addresses() {
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "anna@localhost",
            "a b@example.com",
            "<script>@x.de",
            "anna@@example.com",
            "anna@[127.0.0.1]",
        ] {
            let e = Email::parse(bad, "customer.email").unwrap_err();
            assert_eq!(e.field, "customer.email", "{bad}");
        }
    }

    proptest! {
        #[test]
        fn match_key_is_idempotent(local in "[a-z0-9.+]{1,20}", domain in "(gmail|outlook|example|web)\\.(com|de)") {
            let local = local.trim_matches('.').replace("..", ".");
            prop_assume!(!local.is_empty() && !local.starts_with('+'));
            if let Ok(e) = Email::parse(&format!("{local}@{domain}"), "e") {
                let k = e.match_key();
                let again = Email::parse(&k, "e").map(|e| e.match_key());
                if let Ok(again) = again { prop_assert_eq!(again, k); }
            }
        }
    }
}
