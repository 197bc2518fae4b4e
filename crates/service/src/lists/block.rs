//! The four-eye kind "block a customer id": a person's block of an account waits for a second
//! person, since it refuses every later order of that customer.

use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::lists::NewListEntry;
use crate::{Actor, RulesAdmin, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use riskdesk_domain::{CustomerId, Permission, Proposal};
use riskdesk_store::changes::{Effect, ListChange};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlockCustomerPayload {
    pub customer_id: String,
    pub reason: String,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

pub struct BlockCustomer;

#[async_trait::async_trait]
impl ProposalKind for BlockCustomer {
    fn code(&self) -> &'static str {
        "block_customer"
    }

    fn label(&self) -> &'static str {
        "Block customer"
    }

    fn approver(&self) -> Permission {
        Permission::ApproveOrderActions
    }

    fn link(&self, _target: &str) -> String {
        "/lists".into()
    }

    async fn describe(&self, _svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        match payload::<BlockCustomerPayload>(p) {
            Ok(b) => vec![
                ("Customer".into(), b.customer_id),
                ("Reason".into(), b.reason),
                ("Expires".into(), b.expires_at.map_or_else(|| "never".into(), |t| t.format("%Y-%m-%d").to_string())),
            ],
            Err(_) => Vec::new(),
        }
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let b: BlockCustomerPayload = payload(p)?;
        let e = svc.block_entry(&b, maker)?;
        let id = e.id.clone();
        let audit = entry(
            &maker.id,
            "list.add",
            format!("customer:{}", b.customer_id),
            serde_json::json!({"entry": id, "list": "block", "proposal": p.id}),
            svc.now(),
        );
        Ok(Execution {
            effects: vec![Effect::Lists(ListChange::Add(vec![e]))],
            audit,
            then: Some(Box::new(|svc: Service| {
                Box::pin(async move {
                    if let Err(e) = svc.screener().refresh().await {
                        tracing::warn!(error = %e, "refreshing the screener after a block failed");
                    }
                })
            })),
        })
    }
}

impl Service {
    /// Proposes putting a customer id on the block list.
    pub async fn propose_block_customer(
        &self,
        cap: &RulesAdmin,
        payload: BlockCustomerPayload,
    ) -> ServiceResult<String> {
        let id = CustomerId::parse(payload.customer_id.trim(), "customer_id")
            .map_err(|e| ServiceError::Invalid(e.detail))?;
        // Checked now so that a proposal never holds an entry that could not be stored.
        self.block_entry(&payload, cap.actor())?;
        let payload = BlockCustomerPayload { customer_id: id.to_string(), ..payload };
        self.propose(cap.actor(), &BlockCustomer, id.to_string(), to_payload(&payload)?).await
    }

    fn block_entry(&self, p: &BlockCustomerPayload, maker: &Actor) -> ServiceResult<riskdesk_store::ListEntry> {
        let e = NewListEntry {
            list: "block".into(),
            kind: "customer".into(),
            value: p.customer_id.clone(),
            reason: p.reason.clone(),
            expires_at: p.expires_at,
        };
        self.entry_from(&e, &maker.id, self.now())
            .map_err(|(field, msg)| ServiceError::Invalid(format!("{field}: {msg}")))
    }
}
