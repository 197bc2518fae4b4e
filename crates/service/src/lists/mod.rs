//! Block and allow lists: adding, removing, bulk CSV import. Entries are normalised and checked
//! before anything is stored; an import with a bad line stores nothing and reports every bad
//! line by number.

mod block;

pub use block::{BlockCustomer, BlockCustomerPayload};

use crate::audit::entry;
use crate::screening::lists::normalise;
use crate::{RulesAdmin, RulesViewer, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_rules::needs::{ListKind, ListType};
pub use riskdesk_store::ListEntry;
use riskdesk_store::changes::{Effect, ListChange};
use serde::{Deserialize, Serialize};

/// A list entry as a caller writes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewListEntry {
    pub list: String,
    pub kind: String,
    pub value: String,
    pub reason: String,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A rejected line of a list import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

pub const MAX_IMPORT_LINES: usize = 100_000;

impl Service {
    pub(crate) fn entry_from(
        &self,
        e: &NewListEntry,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<ListEntry, (String, String)> {
        let list =
            ListType::parse(e.list.trim()).ok_or(("list".to_owned(), "list must be block or allow".to_owned()))?;
        let kind = ListKind::parse(e.kind.trim()).ok_or_else(|| {
            let all: Vec<&str> = ListKind::ALL.iter().map(|k| k.as_str()).collect();
            ("kind".to_owned(), format!("kind must be one of {}", all.join(", ")))
        })?;
        let (value, match_key) = normalise(kind, &e.value, self.hasher()).map_err(|m| ("value".to_owned(), m))?;
        let reason = riskdesk_domain::text::clean(&e.reason, "reason", 500)
            .map_err(|x| ("reason".to_owned(), x.detail))?
            .ok_or(("reason".to_owned(), "the reason is blank".to_owned()))?;
        if e.expires_at.is_some_and(|x| x <= now) {
            return Err(("expires_at".into(), "expires_at must be in the future".into()));
        }
        Ok(ListEntry {
            id: format!("L-{}", ulid::Ulid::new()),
            list,
            kind,
            value,
            match_key,
            reason,
            author: author.to_owned(),
            created_at: now,
            expires_at: e.expires_at,
            removed_at: None,
        })
    }

    /// Adds entries, all or none; every invalid one is reported with its position (1-based).
    pub async fn add_list_entries(&self, cap: &RulesAdmin, entries: &[NewListEntry]) -> ServiceResult<Vec<ListEntry>> {
        let now = self.now();
        let mut ok = Vec::with_capacity(entries.len());
        let mut bad = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match self.entry_from(e, &cap.actor().id, now) {
                Ok(x) => ok.push(x),
                Err((field, message)) => bad.push(LineError { line: i as u64 + 1, field, message }),
            }
        }
        if !bad.is_empty() {
            return Err(ServiceError::ListLines(bad));
        }
        if ok.is_empty() {
            return Err(ServiceError::Invalid("no entries given".into()));
        }
        self.store_entries(cap, &ok).await?;
        Ok(ok)
    }

    /// Imports CSV with the header `list,kind,value,reason,expires_at` (expires_at optional,
    /// RFC 3339). Line numbers in errors count the header as line 1.
    pub async fn import_list_csv(&self, cap: &RulesAdmin, csv_text: &[u8]) -> ServiceResult<Vec<ListEntry>> {
        let mut rdr = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(csv_text);
        let headers = rdr.headers().map_err(|e| ServiceError::Invalid(format!("line 1: {e}")))?.clone();
        let want = ["list", "kind", "value", "reason"];
        for w in want {
            if !headers.iter().any(|h| h == w) {
                return Err(ServiceError::ListLines(vec![LineError {
                    line: 1,
                    field: w.into(),
                    message: format!(
                        "the header must name the columns list, kind, value, reason (and optionally expires_at); {w} is missing"
                    ),
                }]));
            }
        }
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (cl, ck, cv, cr, ce) = (col("list"), col("kind"), col("value"), col("reason"), col("expires_at"));
        let mut entries = Vec::new();
        let mut bad = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            if entries.len() + bad.len() >= MAX_IMPORT_LINES {
                return Err(ServiceError::Invalid(format!("at most {MAX_IMPORT_LINES} lines per import")));
            }
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    bad.push(LineError { line, field: String::new(), message: e.to_string() });
                    continue;
                }
            };
            let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_owned();
            let expires = get(ce);
            let expires_at = if expires.is_empty() {
                None
            } else {
                match DateTime::parse_from_rfc3339(&expires) {
                    Ok(t) => Some(t.with_timezone(&Utc)),
                    Err(_) => {
                        bad.push(LineError {
                            line,
                            field: "expires_at".into(),
                            message: "not an RFC 3339 time".into(),
                        });
                        continue;
                    }
                }
            };
            let e = NewListEntry { list: get(cl), kind: get(ck), value: get(cv), reason: get(cr), expires_at };
            match self.entry_from(&e, &cap.actor().id, self.now()) {
                Ok(x) => entries.push(x),
                Err((field, message)) => bad.push(LineError { line, field, message }),
            }
        }
        if !bad.is_empty() {
            return Err(ServiceError::ListLines(bad));
        }
        if entries.is_empty() {
            return Err(ServiceError::Invalid("the file has no entries".into()));
        }
        self.store_entries(cap, &entries).await?;
        Ok(entries)
    }

    /// Stores entries with one audit record each; blocking a customer id needs four eyes
    /// except for the local operator.
    async fn store_entries(&self, cap: &RulesAdmin, entries: &[ListEntry]) -> ServiceResult<()> {
        if !cap.is_local() && entries.iter().any(|e| e.list == ListType::Block && e.kind == ListKind::Customer) {
            return Err(ServiceError::Forbidden(
                "blocking a customer id needs four eyes: propose it in the web UI (Lists page)".into(),
            ));
        }
        let now = self.now();
        let audit: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut a = entry(
                    &cap.actor().id,
                    "list.add",
                    format!("list:{}:{}", e.list.as_str(), e.kind.as_str()),
                    serde_json::json!({"entry": e.id, "expires_at": e.expires_at}),
                    now,
                );
                // Only the local operator blocks a customer without a second person: flagged.
                if e.list == ListType::Block && e.kind == ListKind::Customer {
                    a.flagged = true;
                    a.purpose = Some("blocked by the local operator, outside four eyes".into());
                }
                a
            })
            .collect();
        self.commit_audited(&[Effect::Lists(ListChange::Add(entries.to_vec()))], &audit).await?;
        self.screener().refresh().await
    }

    pub async fn remove_list_entry(&self, cap: &RulesAdmin, id: &str) -> ServiceResult<()> {
        let Some(e) = self.store().list_entries().await?.into_iter().find(|e| e.id == id) else {
            return Err(ServiceError::NotFound("list entry"));
        };
        let now = self.now();
        let audit = entry(
            &cap.actor().id,
            "list.remove",
            format!("list:{}:{}", e.list.as_str(), e.kind.as_str()),
            serde_json::json!({"entry": id}),
            now,
        );
        let effect = Effect::Lists(ListChange::Remove { id: id.to_owned(), actor: cap.actor().id.clone(), at: now });
        self.commit_audited(&[effect], &[audit]).await?;
        self.screener().refresh().await
    }

    pub async fn list_entries(&self, _cap: &RulesViewer) -> ServiceResult<Vec<ListEntry>> {
        Ok(self.store().list_entries().await?)
    }
}
