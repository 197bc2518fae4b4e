//! The review queue and manual decisions. Release and cancel close the queue item, append a
//! decision the shop is told about by webhook, and write the outcome as a label (confirmed
//! fraud / legitimate) that screening and KPIs read; a hold keeps the item in the queue.
//! Cancelling an order at or above the four-eye threshold becomes a proposal instead.

mod cancel;
pub mod customer;
mod history;
mod linked;
pub mod search;

pub use cancel::CancelOrder;
pub use history::TimelineEntry;
pub use linked::{GRAPH_LIMIT, Hub, Neighbour};

use crate::audit::entry;
use crate::masking::{self as pii, MaskedParty};
use crate::{Actor, OrderDecider, OrderViewer, QueueAssigner};
use crate::{Service, ServiceError, ServiceResult, webhooks};
use chrono::{DateTime, Utc};
use riskdesk_domain::review::Outcome;
use riskdesk_domain::{Decision, EntityKey, Event, EventId, EventType, OrderId, Reason, Verdict};
use riskdesk_domain::{ReviewAction, ReviewReason};
use riskdesk_store::changes::{Effect, ReviewChange};
use riskdesk_store::review::SlaMinutes;
pub use riskdesk_store::review::{QueueFilter, QueueSort, QueueState, QueueStats, ReviewActionRecord, ReviewItem};
use riskdesk_store::{ListEntry, NewEvent, StoredOrder};
use serde::{Deserialize, Serialize};

/// What an analyst submits for an order.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ReviewInput {
    pub action: ReviewAction,
    pub reason: ReviewReason,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    Done,
    /// The cancellation needs a second person: this proposal waits for them.
    Proposed(String),
}

/// Everything the order page shows, with personal data masked: the order itself carries none
/// (the masked party holds what may be shown), rule values and list entries are masked.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub stored: StoredOrder,
    pub party: MaskedParty,
    pub item: Option<ReviewItem>,
    pub actions: Vec<ReviewActionRecord>,
    /// The screening decision and every later human step, oldest first: reviews, proposals
    /// (with their amendments and outcome), whatever became of them.
    pub history: Vec<TimelineEntry>,
    pub timeline: Vec<TimelineEntry>,
    pub cluster_id: Option<String>,
    pub cluster_size: i64,
    pub cluster_fraud: i64,
    pub neighbours: Vec<Neighbour>,
    /// Whether the order's own account is labelled confirmed fraud.
    pub customer_fraud: bool,
    /// Directly linked accounts (not through a hub) left out of the picture.
    pub more_neighbours: usize,
    /// Entities shared too widely to link (not drawn).
    pub hubs: Vec<Hub>,
    pub list_hits: Vec<ListEntry>,
    /// The latest decision.
    pub latest: Option<Decision>,
    /// The latest screening decision (not a person's): its rule hits stay the order's "why"
    /// after people decide.
    pub screening: Option<Decision>,
    /// Whether a cancel needs four eyes here.
    pub cancel_needs_approval: bool,
    pub pending_proposal: Option<String>,
}

impl Service {
    pub(crate) fn sla_minutes(&self) -> SlaMinutes {
        let sla = self.settings().sla;
        SlaMinutes { per_channel: sla.per_channel.into_iter().collect(), default: sla.default_minutes }
    }

    /// Who may be assigned queue items: enabled users whose role decides orders.
    pub async fn deciders(&self, _cap: &QueueAssigner) -> ServiceResult<Vec<String>> {
        Ok(self
            .store()
            .users()
            .await?
            .into_iter()
            .filter(|u| u.role.allows(riskdesk_domain::Permission::DecideOrders) && u.disabled_at.is_none())
            .map(|u| u.username)
            .collect())
    }

    pub async fn review_queue(&self, _cap: &OrderViewer, f: &QueueFilter) -> ServiceResult<(Vec<ReviewItem>, i64)> {
        Ok(self.store().review_queue(f, &self.sla_minutes()).await?)
    }

    /// The latest review action of each order (a held order's hold, a decided one's decision).
    pub async fn latest_review_actions(
        &self,
        _cap: &OrderViewer,
        order_ids: &[String],
    ) -> ServiceResult<Vec<ReviewActionRecord>> {
        Ok(self.store().latest_review_actions(order_ids).await?)
    }

    pub async fn queue_facets(&self, _cap: &OrderViewer) -> ServiceResult<(Vec<String>, Vec<String>, Vec<String>)> {
        Ok(self.store().queue_facets().await?)
    }

    /// Queue size, oldest item, SLA breaches and decisions since `since` (the start of today).
    pub async fn queue_stats(&self, _cap: &OrderViewer, since: DateTime<Utc>) -> ServiceResult<QueueStats> {
        Ok(self.store().queue_stats(self.now(), since, &self.sla_minutes()).await?)
    }

    /// Whether cancelling an order of this total needs a second person.
    pub fn cancel_needs_approval(&self, total_minor: i64, currency: &str) -> bool {
        let exp = riskdesk_domain::Currency::parse(currency, "currency").map_or(2, |c| c.exponent());
        let threshold = self.settings().cancel_four_eyes_from.saturating_mul(10i64.pow(exp));
        total_minor >= threshold
    }

    pub async fn order_view(&self, _cap: &OrderViewer, id: &OrderId) -> ServiceResult<Option<OrderView>> {
        let store = self.store();
        let Some(stored) = store.get_order(id).await? else { return Ok(None) };
        let sla = self.sla_minutes();
        let item = store.review_item(id.as_str(), &sla).await?;
        let actions = store.review_actions(id.as_str()).await?;
        let cid = stored.order.customer.customer_id.clone();
        let customer = store.get_customer(&cid, 50).await?;
        let (cluster_id, cluster_size, cluster_fraud) = match store.cluster_of(&cid).await? {
            Some((c, f)) => (Some(c), f.size, f.fraud_accounts),
            None => (None, 1, 0),
        };
        let (neighbours, more, hubs) = self.neighbours(&cid).await?;
        let customer_fraud = !store.fraud_accounts(&[cid.to_string()]).await?.is_empty();
        let entities: Vec<EntityKey> = stored.order.entities().iter().map(|e| self.hasher().key_of(e)).collect();
        let mut list_hits = self.list_hits(&stored, &entities).await?;
        for e in &mut list_hits {
            e.value = pii::mask_list_value(e.kind, &e.value);
        }
        let proposals = store.proposals_for(id.as_str()).await?;
        let timeline = history::timeline(&stored, customer.as_ref(), &actions, &proposals);
        let amendments = history::amendments(&**store, &proposals).await?;
        let history = history::review_history(&stored, &actions, &proposals, &amendments);
        let party = pii::masked_party(&stored.order);
        let mut stored = stored;
        pii::scrub(&mut stored);
        let pending_proposal = self.pending_for(&CancelOrder, id.as_str()).await?.map(|p| p.id);
        Ok(Some(OrderView {
            party,
            latest: stored.decisions.last().cloned(),
            screening: stored
                .decisions
                .iter()
                .rev()
                .find(|d| !d.reasons.iter().any(|r| r.rule == "manual_review"))
                .cloned(),
            cancel_needs_approval: self
                .cancel_needs_approval(stored.order.total.minor, stored.order.total.currency.code()),
            stored,
            item,
            actions,
            history,
            timeline,
            cluster_id,
            cluster_size,
            cluster_fraud,
            neighbours,
            customer_fraud,
            more_neighbours: more,
            hubs,
            list_hits,
            pending_proposal,
        }))
    }

    pub async fn claim(&self, cap: &OrderDecider, id: &OrderId, take: bool) -> ServiceResult<()> {
        let item = self.open_item(id).await?;
        let me = cap.actor().username.clone().unwrap_or_default();
        if take && item.claimed_by.as_deref().is_some_and(|u| u != me) {
            return Err(ServiceError::Conflict(format!("already claimed by {}", item.claimed_by.unwrap_or_default())));
        }
        if !take && let Some(other) = item.claimed_by.as_deref().filter(|u| *u != me) {
            return Err(ServiceError::Conflict(format!(
                "claimed by {other}: only they release the claim, or a team lead takes the order over"
            )));
        }
        let now = self.now();
        let me_name = me.clone();
        let user = take.then_some(me);
        let audit = entry(
            &cap.actor().id,
            if take { "queue.claim" } else { "queue.unclaim" },
            format!("order:{id}"),
            serde_json::json!({}),
            now,
        );
        self.commit_audited(
            &[Effect::Review(ReviewChange::Claim {
                order_id: id.to_string(),
                user,
                at: now,
                unless_held_by_other: Some(me_name.clone()),
            })],
            &[audit],
        )
        .await
    }

    /// A team lead takes a claimed order over: the claim moves to them, and the take-over is
    /// audited with whom it was taken from.
    pub async fn take_over(&self, cap: &QueueAssigner, id: &OrderId) -> ServiceResult<()> {
        let item = self.open_item(id).await?;
        let me = cap.actor().username.clone().unwrap_or_default();
        let now = self.now();
        let audit = entry(
            &cap.actor().id,
            "queue.takeover",
            format!("order:{id}"),
            serde_json::json!({"from": item.claimed_by}),
            now,
        );
        self.commit_audited(
            &[Effect::Review(ReviewChange::Claim {
                order_id: id.to_string(),
                user: Some(me),
                at: now,
                unless_held_by_other: None,
            })],
            &[audit],
        )
        .await
    }

    pub async fn assign(&self, cap: &QueueAssigner, id: &OrderId, username: &str) -> ServiceResult<()> {
        self.open_item(id).await?;
        let user = self.store().user_by_name(username).await?.ok_or(ServiceError::NotFound("user"))?;
        if !user.role.allows(riskdesk_domain::Permission::DecideOrders) {
            return Err(ServiceError::Invalid(format!("{} may not decide orders", user.username)));
        }
        let now = self.now();
        let audit = entry(
            &cap.actor().id,
            "queue.assign",
            format!("order:{id}"),
            serde_json::json!({"to": user.username}),
            now,
        );
        self.commit_audited(
            &[Effect::Review(ReviewChange::Claim {
                order_id: id.to_string(),
                user: Some(user.username),
                at: now,
                unless_held_by_other: None,
            })],
            &[audit],
        )
        .await
    }

    async fn open_item(&self, id: &OrderId) -> ServiceResult<ReviewItem> {
        let item = self.store().review_item(id.as_str(), &self.sla_minutes()).await?;
        match item {
            Some(i) if i.state != QueueState::Closed => Ok(i),
            Some(_) => Err(ServiceError::Conflict("the order was already decided".into())),
            None => Err(ServiceError::NotFound("order in review")),
        }
    }

    /// Releases, holds or cancels an order in review.
    pub async fn review_order(
        &self,
        cap: &OrderDecider,
        id: &OrderId,
        input: ReviewInput,
    ) -> ServiceResult<ReviewOutcome> {
        let input = clean_input(input)?;
        let item = self.open_item(id).await?;
        // A claim locks the order: its claimant decides it (or a team lead takes it over first).
        let me = cap.actor().username.as_deref().unwrap_or_default();
        if let Some(other) = item.claimed_by.as_deref().filter(|u| *u != me) {
            return Err(ServiceError::Conflict(format!(
                "claimed by {other}: they decide this order, or a team lead takes it over"
            )));
        }
        if input.action == ReviewAction::Cancel && self.cancel_needs_approval(item.total_minor, &item.currency) {
            let payload = serde_json::to_string(&CancelPayload { order_id: id.to_string(), review: input.clone() })
                .map_err(|e| ServiceError::Invalid(e.to_string()))?;
            let p = self.propose(cap.actor(), &CancelOrder, id.to_string(), payload).await?;
            return Ok(ReviewOutcome::Proposed(p));
        }
        let (effects, label) = self.review_effects(cap.actor(), id, &input, None).await?;
        let audit = entry(
            &cap.actor().id,
            &format!("order.{}", input.action.as_str()),
            format!("order:{id}"),
            serde_json::json!({"reason": input.reason.as_str()}),
            self.now(),
        );
        self.commit_audited(&effects, &[audit]).await?;
        self.after_label(label).await;
        Ok(ReviewOutcome::Done)
    }

    /// The changes a review makes: the action record, the decision and label, the webhook.
    pub(crate) async fn review_effects(
        &self,
        actor: &Actor,
        id: &OrderId,
        input: &ReviewInput,
        proposal_id: Option<String>,
    ) -> ServiceResult<(Vec<Effect>, Option<Event>)> {
        let stored = self.store().get_order(id).await?.ok_or(ServiceError::NotFound("order"))?;
        let now = self.now();
        let latest = stored.decisions.last();
        let verdict = match input.action {
            ReviewAction::Release => Some(Verdict::Approve),
            ReviewAction::Cancel => Some(Verdict::Decline),
            ReviewAction::Hold => None,
        };
        let decision = verdict.map(|v| Decision {
            order_id: id.clone(),
            decision: v,
            score: latest.map_or(0, |d| d.score),
            reasons: vec![Reason {
                rule: "manual_review".into(),
                action: input.action.as_str().into(),
                points: 0,
                detail: input.reason.as_str().into(),
            }],
            ruleset_version: latest.map_or(0, |d| d.ruleset_version),
            decided_at: now,
            not_evaluated: Vec::new(),
        });
        let label = input.reason.outcome().map(|o| Event {
            event_id: EventId::parse(&format!("lbl_{}", ulid::Ulid::new()), "event_id").expect("a valid id"),
            event_type: match o {
                Outcome::ConfirmedFraud => EventType::FraudConfirmed,
                Outcome::Legitimate => EventType::LegitConfirmed,
            },
            occurred_at: now.fixed_offset(),
            order_id: Some(id.clone()),
            customer_id: Some(stored.order.customer.customer_id.clone()),
            data: serde_json::Map::from_iter([
                ("source".to_owned(), serde_json::json!("manual_review")),
                ("reason".to_owned(), serde_json::json!(input.reason.as_str())),
            ]),
        });
        let outbox = decision
            .as_ref()
            .map(|d| webhooks::messages_for(&self.webhooks().endpoints, "order.reviewed", d, now))
            .unwrap_or_default();
        let action = ReviewActionRecord {
            id: format!("rva_{}", ulid::Ulid::new()),
            order_id: id.to_string(),
            action: input.action.as_str().into(),
            reason: input.reason.as_str().into(),
            note: input.note.clone(),
            actor: actor.id.clone(),
            at: now,
            proposal_id,
        };
        let state = if input.action == ReviewAction::Hold { QueueState::Held } else { QueueState::Closed };
        let effect = Effect::Review(ReviewChange::Review {
            action,
            decision,
            label: label.clone().map(|event| NewEvent { event, received_at: now }),
            outbox,
            state,
        });
        Ok((vec![effect], label))
    }

    /// A fraud label re-screens the cluster's open approved orders; a failure there is logged,
    /// never undoes the decision.
    pub(crate) async fn after_label(&self, label: Option<Event>) {
        if let Some(e) = label
            && let Err(err) = self.rescreen_after(&e).await
        {
            tracing::warn!(error = %err, "re-screening after a manual label failed");
        }
    }
}

/// The payload of a cancel proposal: exactly what runs when it is approved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CancelPayload {
    pub order_id: String,
    pub review: ReviewInput,
}

pub(crate) fn clean_input(mut input: ReviewInput) -> ServiceResult<ReviewInput> {
    if input.reason.action() != input.action {
        return Err(ServiceError::Invalid(format!(
            "reason: {} is not a reason to {}",
            input.reason.as_str(),
            input.action.as_str()
        )));
    }
    input.note = riskdesk_domain::text::clean(&input.note, "note", 2000)
        .map_err(|e| ServiceError::Invalid(format!("note: {}", e.detail)))?
        .unwrap_or_default();
    Ok(input)
}
