//! Files attached to a case: checked by the domain (type from the content, size, a plain name),
//! stored in the database with their SHA-256 in the change's transaction; every download of
//! one is audited, as attachments often hold personal data.

use super::{event, invalid};
use crate::audit::entry;
use crate::{CaseViewer, CaseWorker, Service, ServiceError, ServiceResult};
use riskdesk_domain::cases::attachment;
pub use riskdesk_store::cases::Attachment;
use riskdesk_store::changes::{CaseChange, Effect};
use sha2::Digest;

impl Service {
    pub async fn attach_to_case(
        &self,
        cap: &CaseWorker,
        case_id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> ServiceResult<Attachment> {
        let actor = cap.actor();
        let (name, content_type) = attachment::check(name, &bytes).map_err(|(f, m)| invalid(f, m))?;
        let before = self.case_record(case_id).await?;
        let now = self.now();
        let a = Attachment {
            id: format!("att_{}", ulid::Ulid::new()),
            case_id: case_id.into(),
            name: name.clone(),
            content_type: content_type.into(),
            size: bytes.len() as i64,
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            added_by: actor.id.clone(),
            added_at: now,
            data: bytes,
        };
        let ev =
            event(case_id, actor, "attachment", format!("Attached {name} ({content_type}, {} bytes)", a.size), now);
        let detail = serde_json::json!({"attachment": a.id, "sha256": a.sha256, "size": a.size});
        self.save_case(
            &before,
            before.clone(),
            actor,
            vec![ev],
            vec![Effect::Cases(CaseChange::Attach(a.clone()))],
            ("case.attach", detail),
        )
        .await?;
        Ok(Attachment { data: Vec::new(), ..a })
    }

    pub async fn case_attachments(&self, _cap: &CaseViewer, case_id: &str) -> ServiceResult<Vec<Attachment>> {
        Ok(self.store().case_attachments(case_id).await?)
    }

    /// One attachment with its content; the read is audited.
    pub async fn case_attachment(&self, cap: &CaseViewer, case_id: &str, id: &str) -> ServiceResult<Attachment> {
        let a = self
            .store()
            .case_attachment(id)
            .await?
            .filter(|a| a.case_id == case_id)
            .ok_or(ServiceError::NotFound("attachment"))?;
        let actor = cap.actor();
        self.audit_only(entry(
            &actor.id,
            "case.attachment.read",
            format!("case:{case_id}"),
            serde_json::json!({"attachment": id}),
            self.now(),
        ))
        .await?;
        Ok(a)
    }
}
