//! Encryption at rest, the service's part. Values are sealed and opened by the store
//! (`riskdesk_store::seal`) under the process's key ring; what is left here is bringing stored
//! rows to the primary key after a rotation, or when encryption is switched on: a pass over every
//! sealed column, resumable (each page commits on its own, and a row already under the primary
//! is skipped), safe beside live traffic (a row is rewritten only if it still holds the value
//! read), and audited when it completes.

use crate::audit::{Actor, entry};
use crate::{Service, ServiceResult};
use riskdesk_store::audit::AuditFilter;
use riskdesk_store::seal::ring;
use serde::Serialize;
use serde_json::json;

/// Rows per page of a pass.
const PAGE: i64 = 500;
/// The audit action of a completed pass; its subject names the key everything was sealed under.
const RESEALED: &str = "encryption.resealed";

/// One sealed column in a pass.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ColumnReport {
    pub field: &'static str,
    pub rows: u64,
    /// Rows that were not under the primary key when read.
    pub stale: u64,
    pub resealed: u64,
}

/// What a pass found (and, when it wrote, did).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ResealReport {
    /// The key new values are sealed under; `None` when encryption is off.
    pub primary: Option<String>,
    /// Every key the process can open with.
    pub keys: Vec<String>,
    pub columns: Vec<ColumnReport>,
}

impl ResealReport {
    pub fn stale(&self) -> u64 {
        self.columns.iter().map(|c| c.stale).sum()
    }

    pub fn resealed(&self) -> u64 {
        self.columns.iter().map(|c| c.resealed).sum()
    }

    pub fn rows(&self) -> u64 {
        self.columns.iter().map(|c| c.rows).sum()
    }
}

impl Service {
    /// Walks every sealed column: counts the rows not under the primary key and, when `write`,
    /// seals them again under it. A written pass that leaves nothing stale is audited.
    pub async fn reseal(&self, actor: &Actor, write: bool) -> ServiceResult<ResealReport> {
        let ring = ring();
        let primary = ring.primary();
        let mut report = ResealReport {
            primary: primary.map(|k| k.hex()),
            keys: ring.key_ids().iter().map(|k| k.hex()).collect(),
            columns: Vec::new(),
        };
        let write = write && primary.is_some();
        for column in riskdesk_store::sealed_columns() {
            let mut c = ColumnReport { field: column.field, ..Default::default() };
            let mut after = String::new();
            loop {
                let page = self.store().reseal(&column, &after, PAGE, write).await?;
                c.rows += page.read;
                c.stale += page.stale;
                c.resealed += page.resealed;
                match page.next {
                    Some(next) => after = next,
                    None => break,
                }
            }
            report.columns.push(c);
        }
        if write && let Some(key) = &report.primary {
            // Rows that changed between read and write were written under the primary anyway.
            let detail = json!({"rows": report.rows(), "stale": report.stale(), "resealed": report.resealed()});
            self.audit_only(entry(&actor.id, RESEALED, format!("key:{key}"), detail, self.now())).await?;
            tracing::info!(key = %key, resealed = report.resealed(), "stored personal data sealed under the primary key");
        }
        Ok(report)
    }

    /// Whether a completed pass has brought everything under the current primary key.
    pub async fn resealed_under_primary(&self) -> ServiceResult<bool> {
        let Some(primary) = ring().primary() else { return Ok(true) };
        let done = self
            .store()
            .audit_records(&AuditFilter {
                action: Some(RESEALED.into()),
                subject: Some(format!("key:{}", primary.hex())),
                limit: 1,
                ..Default::default()
            })
            .await?;
        Ok(!done.is_empty())
    }

    /// Runs a pass in the background unless one has completed under the current primary key:
    /// at start-up, and whenever the key file changes. A change that arrives while a pass runs
    /// is not lost: the pass checks again against the then-current primary when it ends.
    pub fn spawn_reseal_if_needed(&self) {
        use std::sync::atomic::{AtomicBool, Ordering};
        // One pass at a time in a process (a second would only repeat the first's work);
        // WANTED records a request made while one runs.
        static RUNNING: AtomicBool = AtomicBool::new(false);
        static WANTED: AtomicBool = AtomicBool::new(false);
        WANTED.store(true, Ordering::Release);
        if RUNNING.swap(true, Ordering::AcqRel) {
            return;
        }
        let svc = self.clone();
        tokio::spawn(async move {
            loop {
                while WANTED.swap(false, Ordering::AcqRel) {
                    // Until a completed pass is recorded under the primary of the moment (a pass
                    // started under an older primary records that one).
                    loop {
                        match svc.resealed_under_primary().await {
                            Ok(true) => break,
                            Ok(false) => {
                                if let Err(e) = svc.reseal(&Actor::other("system:encryption"), true).await {
                                    tracing::warn!(error = %e, "re-sealing stored data failed; it is retried at the next start or key change");
                                    break;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "cannot tell whether stored data is sealed under the primary key");
                                break;
                            }
                        }
                    }
                }
                RUNNING.store(false, Ordering::Release);
                // A request between the last check and the line above found RUNNING set.
                if !WANTED.load(Ordering::Acquire) || RUNNING.swap(true, Ordering::AcqRel) {
                    break;
                }
            }
        });
    }
}
