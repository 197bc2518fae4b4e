//! Conversions between stored rows and domain values, shared by every backend so that the
//! backends differ only in SQL.

use crate::{ApiKeyRecord, CustomerProfile, OrderSummary, StoreError, StoreResult, StoredEvent, from_millis};
use chrono::{DateTime, FixedOffset};
use riskdesk_domain::{
    Address, ApiKeyId, CustomerId, Decision, EntityKey, EntityKind, Event, Order, OrderId, Reason, Verdict,
};
use riskdesk_rules::features::History;
use riskdesk_rules::velocity::UseRow;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub fn order_body(order: &Order) -> String {
    // Sized for a typical order up front rather than grown by doubling.
    let mut out = Vec::with_capacity(1536);
    match serde_json::to_writer(&mut out, order) {
        // serde_json writes valid UTF-8.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub fn order_from_body(body: &str) -> StoreResult<Order> {
    serde_json::from_str(body).map_err(|e| corrupt("order body", e))
}

/// The order of a stored body, packed (`crate::body`) or plain JSON.
pub fn order_from_stored(stored: &[u8]) -> StoreResult<Order> {
    order_from_body(&crate::body::unpack(stored)?)
}

/// A replay row from (position, stored body, packed entities).
pub fn replay_row((pos, body, entities): (i64, Vec<u8>, Vec<u8>)) -> StoreResult<crate::ReplayRow> {
    Ok(crate::ReplayRow { pos, body: crate::body::unpack(&body)?.into_owned(), entities })
}

/// The field name sealed event bodies are bound to (`crate::seal`).
pub const EVENT_FIELD: &str = "events.body";

/// An event's stored body: its JSON, sealed when encryption is on.
pub fn event_body(event: &Event) -> String {
    crate::seal::seal(EVENT_FIELD, &serde_json::to_string(event).unwrap_or_default())
}

/// The JSON of a stored event body.
pub fn event_json(body: &str) -> StoreResult<std::borrow::Cow<'_, str>> {
    crate::seal::ring().open_text(EVENT_FIELD, body)
}

pub fn event_from_row(body: &str, received_at: i64) -> StoreResult<StoredEvent> {
    Ok(StoredEvent {
        event: serde_json::from_str(&event_json(body)?).map_err(|e| corrupt("event body", e))?,
        received_at: from_millis(received_at)?,
    })
}

/// An event row with the account its `customer_id` column holds: an event that came before its
/// order learns the account when the order comes, in the column (the body stays as it was sent).
pub fn event_of_account(body: &str, received_at: i64, customer_id: Option<&str>) -> StoreResult<StoredEvent> {
    let mut e = event_from_row(body, received_at)?;
    if e.event.customer_id.is_none() {
        e.event.customer_id = customer_id.and_then(|c| CustomerId::parse(c, "customer_id").ok());
    }
    Ok(e)
}

/// The `reasons` column: the hit rules, and the rules that could not be evaluated when there were
/// any (`{"hits": [...], "not_evaluated": [...]}`); a plain array is the hits alone.
pub fn reasons_json(d: &Decision) -> String {
    if d.not_evaluated.is_empty() {
        serde_json::to_string(&d.reasons).unwrap_or_else(|_| "[]".into())
    } else {
        serde_json::json!({"hits": d.reasons, "not_evaluated": d.not_evaluated}).to_string()
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ReasonsColumn {
    Hits(Vec<Reason>),
    Both { hits: Vec<Reason>, not_evaluated: Vec<riskdesk_domain::NotEvaluated> },
}

/// Row: order_id, verdict, score, ruleset_version, reasons, decided_at.
pub type DecisionRow = (String, String, i64, i64, String, i64);

pub fn decision_from_row(r: DecisionRow) -> StoreResult<Decision> {
    let (order_id, verdict, score, ruleset_version, reasons, decided_at) = r;
    let (reasons, not_evaluated) = match serde_json::from_str(&reasons).map_err(|e| corrupt("decision reasons", e))? {
        ReasonsColumn::Hits(h) => (h, Vec::new()),
        ReasonsColumn::Both { hits, not_evaluated } => (hits, not_evaluated),
    };
    Ok(Decision {
        order_id: OrderId::parse(&order_id, "order_id").map_err(|e| corrupt("decision order id", e))?,
        decision: Verdict::parse(&verdict).ok_or_else(|| corrupt("verdict", &verdict))?,
        score: u8::try_from(score).map_err(|e| corrupt("score", e))?,
        reasons,
        ruleset_version,
        decided_at: from_millis(decided_at)?,
        not_evaluated,
    })
}

/// Row: customer_id, email, phone, name, created_at, invited_by, channel, first_order_at, last_order_at.
/// Field names of the sealed customer columns (`crate::seal`).
pub const CUSTOMER_EMAIL: &str = "customers.email";
pub const CUSTOMER_PHONE: &str = "customers.phone";
pub const CUSTOMER_NAME: &str = "customers.name";

pub type ProfileRow =
    (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, i64, i64);

pub fn profile_from_row(r: ProfileRow) -> StoreResult<CustomerProfile> {
    let (customer_id, email, phone, name, created_at, invited_by, channel, first, last) = r;
    Ok(CustomerProfile {
        customer_id: CustomerId::parse(&customer_id, "customer_id").map_err(|e| corrupt("customer id", e))?,
        email: crate::seal::open_opt(CUSTOMER_EMAIL, email)?,
        phone: crate::seal::open_opt(CUSTOMER_PHONE, phone)?,
        name: crate::seal::open_opt(CUSTOMER_NAME, name)?,
        created_at: created_at
            .map(|t| DateTime::<FixedOffset>::parse_from_rfc3339(&t).map_err(|e| corrupt("created_at", e)))
            .transpose()?,
        invited_by: invited_by
            .map(|i| CustomerId::parse(&i, "invited_by").map_err(|e| corrupt("invited_by", e)))
            .transpose()?,
        channel,
        first_order_at: from_millis(first)?,
        last_order_at: from_millis(last)?,
    })
}

/// Rows of (body, verdict of the first decision), newest first: the summaries, and the account's
/// distinct billing and shipping addresses, most recently used first. A body may be packed or
/// plain JSON.
pub fn orders_and_addresses<B: AsRef<[u8]>>(
    rows: Vec<(B, Option<String>)>,
) -> StoreResult<(Vec<OrderSummary>, Vec<Address>)> {
    let mut summaries = Vec::with_capacity(rows.len());
    let mut addresses: Vec<Address> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (body, verdict) in rows {
        let o = order_from_stored(body.as_ref())?;
        for a in [&o.shipping_address, &o.billing_address].into_iter().flatten() {
            let key = a.key().map(|k| k.to_string()).unwrap_or_else(|| format!("{a:?}"));
            if seen.insert(key) {
                addresses.push(a.clone());
            }
        }
        summaries.push(summary(o, verdict));
    }
    Ok((summaries, addresses))
}

fn summary(o: Order, verdict: Option<String>) -> OrderSummary {
    OrderSummary {
        order_id: o.order_id,
        placed_at: o.placed_at,
        channel: o.channel,
        total_minor: o.total.minor,
        currency: o.total.currency.code().to_owned(),
        payment_method: o.payment.method,
        decision: verdict,
    }
}

pub fn entity_key(hash: &[u8], kind: i64) -> StoreResult<EntityKey> {
    let kind = EntityKind::from_code(kind).ok_or_else(|| corrupt("entity kind", kind))?;
    let hash: [u8; 16] = hash.try_into().map_err(|_| corrupt("entity hash length", hash.len()))?;
    Ok(EntityKey { kind, hash })
}

/// Row: id, name, scopes, secret_hash, created_at, revoked_at.
pub type ApiKeyRow = (String, String, String, Vec<u8>, i64, Option<i64>);

pub fn api_key_from_row(r: ApiKeyRow) -> StoreResult<ApiKeyRecord> {
    let (id, name, scopes, secret_hash, created_at, revoked_at) = r;
    Ok(ApiKeyRecord {
        id: ApiKeyId::parse(&id).ok_or_else(|| corrupt("api key id", &id))?,
        name,
        scopes: scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        secret_hash,
        created_at: from_millis(created_at)?,
        revoked_at: revoked_at.map(from_millis).transpose()?,
    })
}

/// One customer row of a batch: each value from the latest order that has one, the channel
/// from the earliest.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub customer_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub created_at: Option<String>,
    pub invited_by: Option<String>,
    pub channel: Option<String>,
    pub first_order_at: i64,
    pub last_order_at: i64,
    /// When the order that gave `email`, `phone`, `name` and `channel` was placed: folding
    /// compares these, not the row's span, so that folding in any grouping (per batch, a whole
    /// load, a recovery) gives the same row.
    pub email_at: i64,
    pub phone_at: i64,
    pub name_at: i64,
    pub channel_at: i64,
}

impl CustomerRow {
    /// The e-mail, phone and name as stored: sealed when encryption is on.
    pub fn sealed_contact(&self) -> (Option<String>, Option<String>, Option<String>) {
        use crate::seal::seal_opt;
        (
            seal_opt(CUSTOMER_EMAIL, self.email.as_deref()),
            seal_opt(CUSTOMER_PHONE, self.phone.as_deref()),
            seal_opt(CUSTOMER_NAME, self.name.as_deref()),
        )
    }
}

/// Folds the customers of a batch into one row each (PostgreSQL cannot upsert one key twice in
/// a statement), with the same precedence the upsert applies against the stored row.
pub fn customer_rows(fresh: &[&crate::NewOrder]) -> Vec<CustomerRow> {
    let mut fold = CustomerFold::default();
    for n in fresh {
        fold.add_order(&n.order);
    }
    fold.into_rows()
}

/// Customer rows folded per account: each of e-mail, phone and name from the latest order that
/// has one, the channel of the earliest order that has one, the creation time and inviter as
/// first given. A batch folds its orders with it, and a bulk load a whole file, so that each
/// account is written once rather than once per order. The fold is associative: rows folded in
/// arrival order give the same result however they were grouped (ties in time go to the later
/// arrival, for the channel to the earlier). Against a stored row, which keeps no time per
/// value, the store's upsert can only compare with the row's first and last order: there a
/// newer value than the stored one may be kept out when orders came out of time order.
#[derive(Debug, Default)]
pub struct CustomerFold {
    index: std::collections::HashMap<String, usize>,
    rows: Vec<CustomerRow>,
}

impl CustomerFold {
    /// Folds an order's customer in, after the orders folded before it. An account already
    /// held is updated in place from borrowed values, copying a value only when it changes:
    /// nearly every order repeats its account's e-mail, phone and name, and on a bulk load this
    /// fold runs on the one writer thread.
    pub fn add_order(&mut self, order: &riskdesk_domain::Order) {
        let c = &order.customer;
        let Some(&i) = self.index.get(c.customer_id.as_str()) else {
            self.index.insert(c.customer_id.to_string(), self.rows.len());
            self.rows.push(Self::row_of(order));
            return;
        };
        let at = order.placed_at.timestamp_millis();
        let old = &mut self.rows[i];
        // A value replaces the held one when there is none, or when it is newer (for the
        // channel: older).
        fn pick(new: Option<&str>, new_at: i64, old: &mut Option<String>, old_at: &mut i64, newest: bool) {
            let wins = if newest { new_at >= *old_at } else { new_at < *old_at };
            if let Some(v) = new
                && (old.is_none() || wins)
            {
                if old.as_deref() != Some(v) {
                    *old = Some(v.to_owned());
                }
                *old_at = new_at;
            }
        }
        pick(c.email.as_ref().map(|e| e.as_str()), at, &mut old.email, &mut old.email_at, true);
        pick(c.phone.as_ref().map(|p| p.as_str()), at, &mut old.phone, &mut old.phone_at, true);
        pick(c.name.as_deref(), at, &mut old.name, &mut old.name_at, true);
        pick(order.channel.as_deref(), at, &mut old.channel, &mut old.channel_at, false);
        if old.created_at.is_none() {
            old.created_at = c.created_at.map(|t| t.to_rfc3339());
        }
        if old.invited_by.is_none() {
            old.invited_by = c.invited_by.as_ref().map(|i| i.as_str().to_owned());
        }
        old.first_order_at = old.first_order_at.min(at);
        old.last_order_at = old.last_order_at.max(at);
    }

    /// The customer row one order gives on its own.
    fn row_of(order: &riskdesk_domain::Order) -> CustomerRow {
        let c = &order.customer;
        let at = order.placed_at.timestamp_millis();
        CustomerRow {
            customer_id: c.customer_id.to_string(),
            email: c.email.as_ref().map(|e| e.to_string()),
            phone: c.phone.as_ref().map(|p| p.to_string()),
            name: c.name.clone(),
            created_at: c.created_at.map(|t| t.to_rfc3339()),
            invited_by: c.invited_by.as_ref().map(|i| i.to_string()),
            channel: order.channel.clone(),
            first_order_at: at,
            last_order_at: at,
            email_at: at,
            phone_at: at,
            name_at: at,
            channel_at: at,
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The folded rows in key order, as [`Self::into_rows`].
    pub fn rows(&self) -> Vec<&CustomerRow> {
        let mut rows: Vec<&CustomerRow> = self.rows.iter().collect();
        rows.sort_unstable_by(|a, b| a.customer_id.cmp(&b.customer_id));
        rows
    }

    /// The folded rows in key order: upserts in that order walk the primary-key B-tree once
    /// instead of seeking at random.
    pub fn into_rows(self) -> Vec<CustomerRow> {
        let mut rows = self.rows;
        rows.sort_unstable_by(|a, b| a.customer_id.cmp(&b.customer_id));
        rows
    }
}

/// Gives events without a customer the customer of their order, from `owners` (order → customer).
pub fn fill_event_customers(
    batch: &[crate::NewEvent],
    owners: &std::collections::HashMap<String, String>,
) -> Vec<Event> {
    batch
        .iter()
        .map(|n| {
            let mut e = n.event.clone();
            if e.customer_id.is_none()
                && let Some(c) = e.order_id.as_ref().and_then(|o| owners.get(o.as_str()))
            {
                e.customer_id = CustomerId::parse(c, "customer_id").ok();
            }
            e
        })
        .collect()
}

/// Outcomes of a batch whose rows were inserted with `ON CONFLICT DO NOTHING`, given the ids
/// the database reported as inserted: the first occurrence of an inserted id counts.
pub fn outcomes_from_inserted<'a>(
    ids: impl Iterator<Item = &'a str>,
    inserted: &std::collections::HashSet<String>,
) -> Vec<crate::InsertOutcome> {
    let mut seen = std::collections::HashSet::new();
    ids.map(|id| {
        if inserted.contains(id) && seen.insert(id.to_owned()) {
            crate::InsertOutcome::Inserted
        } else {
            crate::InsertOutcome::Duplicate
        }
    })
    .collect()
}

/// Packs an order's entity keys for its row: one kind byte and 16 hash bytes each.
pub fn pack_entities(keys: &[EntityKey]) -> Vec<u8> {
    let mut out = Vec::with_capacity(keys.len() * 17);
    for k in keys {
        out.push(k.kind.code());
        out.extend_from_slice(&k.hash);
    }
    out
}

pub fn unpack_entities(bytes: &[u8]) -> StoreResult<Vec<EntityKey>> {
    if !bytes.len().is_multiple_of(17) {
        return Err(corrupt("packed entities length", bytes.len()));
    }
    bytes.chunks_exact(17).map(|c| entity_key(&c[1..], i64::from(c[0]))).collect()
}

/// The distinct entity keys of an account, from the packed keys of its orders.
pub fn distinct_entities(rows: &[Vec<u8>]) -> StoreResult<Vec<EntityKey>> {
    let mut all = std::collections::BTreeSet::new();
    for r in rows {
        all.extend(unpack_entities(r)?);
    }
    Ok(all.into_iter().collect())
}

/// Row: customer_id, kind, first seen, last seen, orders.
pub type EntityUseRow = (String, i64, i64, i64, i64);

pub fn entity_use_from_row(r: EntityUseRow) -> StoreResult<crate::EntityUse> {
    let (customer, kind, first, last, orders) = r;
    Ok(crate::EntityUse {
        customer_id: CustomerId::parse(&customer, "customer_id").map_err(|e| corrupt("customer id", e))?,
        kind: EntityKind::from_code(kind).ok_or_else(|| corrupt("entity kind", kind))?,
        first_seen: from_millis(first)?,
        last_seen: from_millis(last)?,
        orders,
    })
}

/// Row: id, list, kind, value, match_key, reason, author, created_at, expires_at, removed_at.
pub type ListEntryRow = (String, String, String, String, String, String, String, i64, Option<i64>, Option<i64>);

/// A list entry's value as analysts see it (an e-mail, an IBAN, an address): sealed at rest
/// (`crate::seal`); lists match on `match_key`, a keyed hash for personal kinds.
pub const LIST_VALUE: &str = "list_entries.value";
pub const LIST_SEALED: &[crate::seal::SealedColumn] =
    &[crate::seal::SealedColumn::text("list_entries", &[crate::seal::key("id")], "value", LIST_VALUE)];

pub const LIST_ENTRY_COLUMNS: &str =
    "id, list, kind, value, match_key, reason, author, created_at, expires_at, removed_at";

pub fn list_entry_from_row(r: ListEntryRow) -> StoreResult<crate::ListEntry> {
    let (id, list, kind, value, match_key, reason, author, created_at, expires_at, removed_at) = r;
    Ok(crate::ListEntry {
        list: riskdesk_rules::needs::ListType::parse(&list).ok_or_else(|| corrupt("list", &list))?,
        kind: riskdesk_rules::needs::ListKind::parse(&kind).ok_or_else(|| corrupt("list kind", &kind))?,
        id,
        value: crate::seal::open(LIST_VALUE, value)?,
        match_key,
        reason,
        author,
        created_at: from_millis(created_at)?,
        expires_at: expires_at.map(from_millis).transpose()?,
        removed_at: removed_at.map(from_millis).transpose()?,
    })
}

/// Row: version, source, author, note, created_at.
pub type RuleSetRow = (i64, String, String, String, i64);

pub fn ruleset_from_row(r: RuleSetRow) -> StoreResult<crate::RuleSetRecord> {
    let (version, source, author, note, created_at) = r;
    Ok(crate::RuleSetRecord { version, source, author, note, created_at: from_millis(created_at)? })
}

/// Row: seq, action, version, actor, at.
pub type ChangeRow = (i64, String, Option<i64>, String, i64);

pub fn change_from_row(r: ChangeRow) -> StoreResult<crate::RuleSetChange> {
    let (seq, action, version, actor, at) = r;
    Ok(crate::RuleSetChange { seq, action, version, actor, at: from_millis(at)? })
}

/// Folds `(type, count, latest)` of an account's earlier events into its history.
pub fn history_from_events(h: &mut History, rows: &[(String, i64, i64)]) {
    for (t, n, latest) in rows {
        let Some(t) = riskdesk_domain::EventType::parse(t) else { continue };
        add_event_to_history(h, t, *n, *latest);
    }
}

/// The one place that says which event counts as what in an account's history.
pub fn add_event_to_history(h: &mut History, t: riskdesk_domain::EventType, n: i64, at_ms: i64) {
    use riskdesk_domain::EventType as E;
    match t {
        E::ReturnRequested => h.returns += n,
        E::RefundClaimed => h.refund_claims += n,
        E::ChargebackReceived => h.chargebacks += n,
        E::FraudConfirmed => h.fraud_labels += n,
        E::LegitConfirmed => h.legit_labels += n,
        _ => {}
    }
    if t.is_account_change()
        && let Some(at) = DateTime::from_timestamp_millis(at_ms)
        && h.last_account_change.is_none_or(|l| l < at)
    {
        h.last_account_change = Some(at);
    }
}

pub fn use_row(
    order_id: String,
    customer_id: String,
    at_ms: i64,
    amount_minor: i64,
    entities: &[u8],
) -> StoreResult<UseRow> {
    Ok(UseRow { order_id, customer_id, at_ms, amount_minor, entities: unpack_entities(entities)? })
}

pub fn event_type(s: &str) -> StoreResult<riskdesk_domain::EventType> {
    riskdesk_domain::EventType::parse(s).ok_or_else(|| corrupt("event type", s))
}

/// An event row as replay reads it: position, occurred-at (ms), type, order id, customer id, and
/// the body for the types whose body the return trail reads ([`TRAIL_BODY`]), else null.
pub type ReplayEventRow = (i64, i64, String, Option<String>, Option<String>, Option<String>);

/// The body column of a [`ReplayEventRow`]: SQL both dialects accept.
pub const TRAIL_BODY: &str = "CASE WHEN type IN ('return_received', 'refund_issued') THEN body END";

/// The event types of an account's return trail, as an SQL list.
pub const TRAIL_TYPES_SQL: &str =
    "('order_delivered', 'return_requested', 'return_received', 'refund_issued', 'chargeback_received')";

/// Decodes event rows for replay (both backends select the same columns).
pub fn replay_events(rows: Vec<ReplayEventRow>) -> StoreResult<Vec<crate::ReplayEvent>> {
    rows.into_iter()
        .map(|(pos, at_ms, t, order_id, customer_id, body)| {
            let (worn, refund_minor) = match body {
                Some(b) => {
                    let e: Event = serde_json::from_str(&event_json(&b)?).map_err(|e| corrupt("event body", e))?;
                    riskdesk_domain::disputes::returns::trail_marks(&e)
                }
                None => (false, 0),
            };
            Ok(crate::ReplayEvent {
                pos,
                at_ms,
                event_type: event_type(&t)?,
                order_id,
                customer_id,
                worn,
                refund_minor,
            })
        })
        .collect()
}

/// Row of a shadow decision joined with the live one: the shadow's six decision columns, then
/// the live verdict, score, version, reasons and time (null when the order had no live decision).
pub type ShadowRow =
    (String, String, i64, i64, String, i64, Option<String>, Option<i64>, Option<i64>, Option<String>, Option<i64>);

pub fn shadow_pairs(rows: Vec<ShadowRow>) -> StoreResult<Vec<(Decision, Option<Decision>)>> {
    rows.into_iter()
        .map(|(id, v, sc, ver, r, at, lv, ls, lver, lr, lat)| {
            let shadow = decision_from_row((id.clone(), v, sc, ver, r, at))?;
            let live = match (lv, ls, lver, lr, lat) {
                (Some(v), Some(s), Some(ver), Some(r), Some(at)) => Some(decision_from_row((id, v, s, ver, r, at))?),
                _ => None,
            };
            Ok((shadow, live))
        })
        .collect()
}

/// Whether the distinct accounts of an entity (`users`, fetched up to the hub limit + 2) still
/// link, counting `me` as one of them: the rule the replay's in-memory clusters apply too.
pub fn links_through(kind: EntityKind, users: &[String], me: &str) -> bool {
    let n = users.len() + usize::from(!users.iter().any(|u| u == me));
    riskdesk_rules::clusters::links(kind) && n <= riskdesk_rules::clusters::hub_limit(kind)
}

/// An account's cluster as both backends read it: (account, cluster id, size, fraud accounts,
/// chargeback accounts).
pub type ClusterRow = (String, String, i64, i64, i64);

/// The counts of the cluster an account would be in, from the cluster rows found for the
/// `looked_up` accounts (its neighbours and itself): the distinct clusters found, plus one for
/// each account without a row. Only accounts in a cluster of two or more, or flagged, have a
/// row; one without is a cluster of one, unflagged, so most accounts (which share nothing) cost
/// no cluster writes.
pub fn merged_facts(looked_up: usize, found: &[ClusterRow]) -> riskdesk_rules::features::ClusterFacts {
    let mut seen = std::collections::HashSet::new();
    let alone = looked_up.saturating_sub(found.len()) as i64;
    let mut f = riskdesk_rules::features::ClusterFacts { size: alone, ..Default::default() };
    for (_, id, size, fraud, cb) in found {
        if seen.insert(id) {
            f.size += size;
            f.fraud_accounts += fraud;
            f.chargeback_accounts += cb;
        }
    }
    f
}

/// The accounts linked to `me` from the latest uses of each linking entity (newest first):
/// an entity links when it is not a hub. Sorted, without `me`. Both backends read the uses
/// their own way and decide here.
pub fn linked_accounts(me: &str, uses: impl IntoIterator<Item = (EntityKind, Vec<String>)>) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, customers) in uses {
        let users = distinct_capped(customers, riskdesk_rules::clusters::hub_limit(kind) + 2);
        if links_through(kind, &users, me) {
            out.extend(users.into_iter().filter(|u| u != me));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Distinct values in first-seen order, at most `cap` of them.
pub fn distinct_capped(rows: Vec<String>, cap: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if !out.contains(&r) {
            out.push(r);
            if out.len() >= cap {
                break;
            }
        }
    }
    out
}

/// The card network of an order paid by card with a known BIN (`visa`, `mastercard`, …), the
/// column the scheme ratios count by.
pub fn card_network(o: &Order) -> Option<&'static str> {
    if o.payment.method != riskdesk_domain::PaymentMethod::Card {
        return None;
    }
    let bin = o.payment.card.as_ref()?.bin.as_deref()?;
    Some(riskdesk_domain::disputes::Network::from_bin(bin).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Spec = (u8, u32, Option<u8>, Option<u8>, Option<u8>, Option<u8>, Option<u8>, Option<u8>);

    /// An order of account `C-{c}` at minute `at` with the given small variations.
    fn order((c, at, email, phone, name, channel, created, invited): Spec) -> Order {
        let mut customer = serde_json::json!({ "customer_id": format!("C-{c}") });
        if let Some(e) = email {
            customer["email"] = format!("p{e}@example.com").into();
        }
        if let Some(p) = phone {
            customer["phone"] = format!("+49151000000{p}").into();
        }
        if let Some(n) = name {
            customer["name"] = format!("Name {n}").into();
        }
        if let Some(d) = created {
            customer["created_at"] = format!("2025-01-0{}T00:00:00+01:00", d % 9 + 1).into();
        }
        if let Some(i) = invited {
            customer["invited_by"] = format!("C-{i}").into();
        }
        let mut o = serde_json::json!({
            "order_id": "O-1",
            "placed_at": format!("2026-01-01T{:02}:{:02}:00Z", at / 60, at % 60),
            "customer": customer,
            "total": { "amount": "1.00", "currency": "EUR" },
            "payment": { "method": "card" },
        });
        if let Some(ch) = channel {
            o["channel"] = ["web", "app", "zalando"][usize::from(ch % 3)].into();
        }
        riskdesk_domain::intake::parse_order_json(&serde_json::to_vec(&o).expect("json")).expect("order")
    }

    fn spec() -> impl Strategy<Value = Spec> {
        let small = || proptest::option::of(0u8..3);
        (0u8..3, 0u32..600, small(), small(), small(), small(), small(), small())
    }

    /// The fold by whole rows, moving values: the reference the in-place fold is held to.
    fn add_row(fold: &mut CustomerFold, row: CustomerRow) {
        let Some(&i) = fold.index.get(&row.customer_id) else {
            fold.index.insert(row.customer_id.clone(), fold.rows.len());
            fold.rows.push(row);
            return;
        };
        let old = &mut fold.rows[i];
        fn pick(new: Option<String>, new_at: i64, old: &mut Option<String>, old_at: &mut i64, newest: bool) {
            let wins = if newest { new_at >= *old_at } else { new_at < *old_at };
            if new.is_some() && (old.is_none() || wins) {
                *old = new;
                *old_at = new_at;
            }
        }
        pick(row.email, row.email_at, &mut old.email, &mut old.email_at, true);
        pick(row.phone, row.phone_at, &mut old.phone, &mut old.phone_at, true);
        pick(row.name, row.name_at, &mut old.name, &mut old.name_at, true);
        pick(row.channel, row.channel_at, &mut old.channel, &mut old.channel_at, false);
        if old.created_at.is_none() {
            old.created_at = row.created_at;
        }
        if old.invited_by.is_none() {
            old.invited_by = row.invited_by;
        }
        old.first_order_at = old.first_order_at.min(row.first_order_at);
        old.last_order_at = old.last_order_at.max(row.last_order_at);
    }

    proptest! {
        /// Folding an order in place gives what folding its own row gives, in any order of
        /// arrival and time.
        #[test]
        fn folding_orders_in_place_equals_folding_their_rows(specs in prop::collection::vec(spec(), 0..40)) {
            let (mut in_place, mut by_row) = (CustomerFold::default(), CustomerFold::default());
            for s in specs {
                let o = order(s);
                in_place.add_order(&o);
                add_row(&mut by_row, CustomerFold::row_of(&o));
            }
            prop_assert_eq!(in_place.into_rows(), by_row.into_rows());
        }
    }
}
