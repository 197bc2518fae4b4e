//! Knowledge: SOPs, playbooks and FAQ pages as versioned Markdown, rendered to HTML that is
//! safe to show (CommonMark by pulldown-cmark, then ammonia's allow-list: no scripts, no event
//! handlers, no `javascript:` links). Saving is compare-and-set on the version, so two editors
//! never overwrite each other. People acknowledge reading a version; the page shows who has not.
//! A playbook's task list becomes the checklist of the cases of its kind (`cases::open_case`).

use crate::audit::entry;
use crate::cases::{clean_text, invalid};
use crate::{Capability, KnowledgeEditor, Service, ServiceError, ServiceResult, Someone};
use riskdesk_domain::cases::CaseKind;
use riskdesk_domain::knowledge::{PageKind, check_slug};
use riskdesk_store::changes::{Effect, KnowledgeChange};
pub use riskdesk_store::knowledge::{Acknowledgement, KnowledgePage};
use serde::Serialize;

/// Longest page, in characters.
pub const MAX_BODY: usize = 100_000;

/// A page to save.
#[derive(Debug, Clone, Default)]
pub struct PageInput {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub case_kind: Option<String>,
    pub note: String,
    /// The version the editor started from (0 for a new page).
    pub base_version: i64,
}

/// A page as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    pub page: KnowledgePage,
    /// The body rendered and sanitised.
    pub html: String,
    /// Whether this is the version in force.
    pub current: bool,
    pub current_version: i64,
    pub acknowledged: Vec<Acknowledgement>,
    /// People who have not acknowledged the version in force.
    pub not_acknowledged: Vec<String>,
    pub versions: Vec<(i64, String, chrono::DateTime<chrono::Utc>, String)>,
}

/// Markdown to HTML that cannot run anything.
pub fn render(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut raw = String::new();
    html::push_html(
        &mut raw,
        Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH),
    );
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(&raw).to_string()
}

impl Service {
    /// Saves a new version of a page (or its first); refused if someone saved since `base_version`.
    pub async fn save_page(&self, cap: &KnowledgeEditor, slug: &str, input: PageInput) -> ServiceResult<KnowledgePage> {
        let actor = cap.actor();
        let slug = check_slug(slug.trim()).map_err(|m| invalid("slug", m))?;
        let kind = PageKind::parse(input.kind.trim()).ok_or_else(|| invalid("kind", "must be sop, playbook or faq"))?;
        let title = clean_text("title", &input.title, 200, true)?;
        let body = clean_text("body", &input.body, MAX_BODY, true)?;
        let note = clean_text("note", &input.note, 500, false)?;
        let case_kind = match input.case_kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => {
                Some(CaseKind::parse(k).ok_or_else(|| invalid("case_kind", "is not a kind of case"))?.code.to_owned())
            }
            None if kind == PageKind::Playbook => {
                return Err(invalid("case_kind", "a playbook names the kind of case it is for"));
            }
            None => None,
        };
        if kind == PageKind::Playbook && riskdesk_domain::knowledge::checklist(&body).is_empty() {
            return Err(invalid(
                "body",
                "a playbook needs a task list (lines like `- [ ] Verify the identity (mandatory)`)",
            ));
        }
        // No page is at the last version an i64 holds: that base is stale like any other.
        let version = input.base_version.max(0).checked_add(1).ok_or_else(|| {
            ServiceError::Conflict(format!("version {} is not the page's current version", input.base_version))
        })?;
        let page = KnowledgePage {
            slug: slug.clone(),
            kind: kind.as_str().into(),
            title,
            case_kind,
            version,
            body,
            author: actor.id.clone(),
            created_at: self.now(),
            note,
        };
        let audit = entry(
            &actor.id,
            "knowledge.save",
            format!("knowledge:{slug}"),
            serde_json::json!({"version": page.version, "kind": page.kind}),
            page.created_at,
        );
        self.commit_audited(&[Effect::Knowledge(KnowledgeChange::Save(page.clone()))], &[audit]).await?;
        Ok(page)
    }

    /// A page (its version in force, or `version`), rendered, with who acknowledged it.
    pub async fn page(&self, _who: &Someone, slug: &str, version: Option<i64>) -> ServiceResult<PageView> {
        let current = self.store().knowledge_page(slug, None).await?.ok_or(ServiceError::NotFound("page"))?;
        let page = match version {
            Some(v) if v != current.version => {
                self.store().knowledge_page(slug, Some(v)).await?.ok_or(ServiceError::NotFound("page version"))?
            }
            _ => current.clone(),
        };
        let acknowledged = self.store().knowledge_acks(slug, current.version).await?;
        let not_acknowledged = self
            .store()
            .users()
            .await?
            .into_iter()
            .filter(|u| u.disabled_at.is_none() && !acknowledged.iter().any(|a| a.username == u.username))
            .map(|u| u.username)
            .collect();
        let versions = self
            .store()
            .knowledge_versions(slug)
            .await?
            .into_iter()
            .map(|v| (v.version, v.author.trim_start_matches("user:").to_owned(), v.created_at, v.note))
            .collect();
        Ok(PageView {
            html: render(&page.body),
            current: page.version == current.version,
            current_version: current.version,
            page,
            acknowledged,
            not_acknowledged,
            versions,
        })
    }

    /// Pages in force, by title; `text` searches titles and bodies.
    pub async fn pages(
        &self,
        _who: &Someone,
        kind: Option<&str>,
        text: Option<&str>,
    ) -> ServiceResult<Vec<KnowledgePage>> {
        if let Some(k) = kind
            && PageKind::parse(k).is_none()
        {
            return Err(invalid("kind", "must be sop, playbook or faq"));
        }
        let text = text.map(str::trim).filter(|t| !t.is_empty()).map(|t| t.chars().take(100).collect::<String>());
        Ok(self.store().knowledge_pages(kind, text.as_deref(), 500).await?)
    }

    /// Records that the caller read the version in force (only that one can be acknowledged).
    pub async fn acknowledge_page(&self, who: &Someone, slug: &str, version: i64) -> ServiceResult<()> {
        let actor = who.actor();
        let username =
            actor.username.clone().ok_or_else(|| ServiceError::Forbidden("only a person acknowledges".into()))?;
        let current = self.store().knowledge_page(slug, None).await?.ok_or(ServiceError::NotFound("page"))?;
        if version != current.version {
            return Err(ServiceError::Conflict(format!(
                "version {version} is not in force; read version {}",
                current.version
            )));
        }
        let now = self.now();
        let audit = entry(
            &actor.id,
            "knowledge.acknowledge",
            format!("knowledge:{slug}"),
            serde_json::json!({"version": version}),
            now,
        );
        let change = KnowledgeChange::Acknowledge { slug: slug.into(), version, username, at: now };
        self.commit_audited(&[Effect::Knowledge(change)], &[audit]).await
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn rendering_is_inert() {
        let html =
            render("# T\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> **b**");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(html.contains("<strong>b</strong>") && html.contains("<h1>T</h1>"), "{html}");
    }
}
