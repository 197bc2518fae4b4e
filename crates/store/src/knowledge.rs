//! Knowledge pages: every version kept, the current one pointed at, and who acknowledged which
//! version.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One version of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnowledgePage {
    pub slug: String,
    /// `sop`, `playbook` or `faq`.
    pub kind: String,
    pub title: String,
    /// The case kind a playbook is for.
    pub case_kind: Option<String>,
    pub version: i64,
    /// Markdown.
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    /// What changed.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acknowledgement {
    pub username: String,
    pub version: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum KnowledgeChange {
    /// Stores `page` as the new current version if the current one is still `page.version - 1`
    /// (0: the page is new); otherwise a conflict and nothing stored.
    Save(KnowledgePage),
    Acknowledge {
        slug: String,
        version: i64,
        username: String,
        at: DateTime<Utc>,
    },
}

#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// A page's current version, or the version asked for.
    async fn knowledge_page(&self, slug: &str, version: Option<i64>) -> StoreResult<Option<KnowledgePage>>;
    /// Current versions, by title; `text` searches titles and bodies.
    async fn knowledge_pages(
        &self,
        kind: Option<&str>,
        text: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<KnowledgePage>>;
    /// Every version of a page, newest first.
    async fn knowledge_versions(&self, slug: &str) -> StoreResult<Vec<KnowledgePage>>;
    /// The current playbook for a case kind (the most recently changed, if several).
    async fn playbook_for(&self, case_kind: &str) -> StoreResult<Option<KnowledgePage>>;
    async fn knowledge_acks(&self, slug: &str, version: i64) -> StoreResult<Vec<Acknowledgement>>;
}
