//! Privacy operations: requests, jobs, outcomes, the vault, breaches, notifications, and a
//! person's records read section by section (and written back scrubbed). `$body` reads
//! `o.body` as bytes (packed or JSON); `$jcast` is what makes a text parameter a JSON column.
/// The privacy area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! privacy_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident, $body:literal, $jcast:literal) => {
        use riskdesk_store::privacy::*;
        use serde_json::{Value, json};

        const REQUEST_COLS: &str = "request_id, case_id, customer_id, right_code, channel, status, received_at, received_on, months, \
             paused_days, paused_since, extension_reason, identity, identity_method, identity_evidence, code_hash, code_expires_at, \
             details, answer, flags, duplicates, created_by, created_at, updated_at, closed_at, warned_days, version";
        const JOB_COLS: &str = "job_id, request_id, kind, status, section, cursor, done_rows, actor, error, attempts, scratch, \
             created_at, updated_at, finished_at";
        const BREACH_COLS: &str = "breach_id, title, description, occurred_at, aware_at, risk, people_affected, categories, \
             authority_notified_at, people_notified_at, people_decision, request_id, status, created_by, created_at, updated_at, version";
        const VAULT_COLS: &str = "vault_id, customer_id, record_kind, record_id, fields, class, reason, until, request_id, created_at";

        fn request_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<RequestRecord> {
            let flags: String = row.try_get("flags").map_err(dberr)?;
            Ok(RequestRecord {
                request_id: row.try_get("request_id").map_err(dberr)?,
                case_id: row.try_get("case_id").map_err(dberr)?,
                customer_id: row.try_get("customer_id").map_err(dberr)?,
                right: row.try_get("right_code").map_err(dberr)?,
                channel: row.try_get("channel").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                received_at: from_millis(row.try_get("received_at").map_err(dberr)?)?,
                received_on: row.try_get("received_on").map_err(dberr)?,
                months: row.try_get("months").map_err(dberr)?,
                paused_days: row.try_get("paused_days").map_err(dberr)?,
                paused_since: row.try_get("paused_since").map_err(dberr)?,
                extension_reason: row.try_get("extension_reason").map_err(dberr)?,
                identity: row.try_get("identity").map_err(dberr)?,
                identity_method: row.try_get("identity_method").map_err(dberr)?,
                identity_evidence: row.try_get("identity_evidence").map_err(dberr)?,
                code_hash: row.try_get("code_hash").map_err(dberr)?,
                code_expires_at: opt_time(row.try_get("code_expires_at").map_err(dberr)?)?,
                details: row.try_get("details").map_err(dberr)?,
                answer: row.try_get("answer").map_err(dberr)?,
                flags: riskdesk_store::qa::json_list(&flags)?,
                duplicates: row.try_get("duplicates").map_err(dberr)?,
                created_by: row.try_get("created_by").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                closed_at: opt_time(row.try_get("closed_at").map_err(dberr)?)?,
                warned_days: row.try_get("warned_days").map_err(dberr)?,
                version: row.try_get("version").map_err(dberr)?,
            })
        }

        fn job_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<JobRecord> {
            Ok(JobRecord {
                job_id: row.try_get("job_id").map_err(dberr)?,
                request_id: row.try_get("request_id").map_err(dberr)?,
                kind: row.try_get("kind").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                section: row.try_get("section").map_err(dberr)?,
                cursor: row.try_get("cursor").map_err(dberr)?,
                done_rows: row.try_get("done_rows").map_err(dberr)?,
                actor: row.try_get("actor").map_err(dberr)?,
                error: row.try_get("error").map_err(dberr)?,
                attempts: row.try_get("attempts").map_err(dberr)?,
                scratch: row.try_get("scratch").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                finished_at: opt_time(row.try_get("finished_at").map_err(dberr)?)?,
            })
        }

        fn breach_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<BreachRecord> {
            Ok(BreachRecord {
                breach_id: row.try_get("breach_id").map_err(dberr)?,
                title: row.try_get("title").map_err(dberr)?,
                description: row.try_get("description").map_err(dberr)?,
                occurred_at: opt_time(row.try_get("occurred_at").map_err(dberr)?)?,
                aware_at: from_millis(row.try_get("aware_at").map_err(dberr)?)?,
                risk: row.try_get("risk").map_err(dberr)?,
                people_affected: row.try_get("people_affected").map_err(dberr)?,
                categories: row.try_get("categories").map_err(dberr)?,
                authority_notified_at: opt_time(row.try_get("authority_notified_at").map_err(dberr)?)?,
                people_notified_at: opt_time(row.try_get("people_notified_at").map_err(dberr)?)?,
                people_decision: row.try_get("people_decision").map_err(dberr)?,
                request_id: row.try_get("request_id").map_err(dberr)?,
                status: row.try_get("status").map_err(dberr)?,
                created_by: row.try_get("created_by").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                updated_at: from_millis(row.try_get("updated_at").map_err(dberr)?)?,
                version: row.try_get("version").map_err(dberr)?,
            })
        }

        fn vault_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<VaultRow> {
            Ok(VaultRow {
                vault_id: row.try_get("vault_id").map_err(dberr)?,
                customer_id: row.try_get("customer_id").map_err(dberr)?,
                record_kind: row.try_get("record_kind").map_err(dberr)?,
                record_id: row.try_get("record_id").map_err(dberr)?,
                fields: row.try_get("fields").map_err(dberr)?,
                class: row.try_get("class").map_err(dberr)?,
                reason: row.try_get("reason").map_err(dberr)?,
                until: row.try_get("until").map_err(dberr)?,
                request_id: row.try_get("request_id").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
            })
        }

        fn ms_json(v: Option<i64>) -> Value {
            v.and_then(|m| DateTime::<Utc>::from_timestamp_millis(m)).map_or(Value::Null, |t| json!(t))
        }

        fn parse_json(s: &str) -> Value {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
        }

        fn text(v: &Value, k: &str) -> Option<String> {
            v.get(k).and_then(Value::as_str).map(str::to_owned)
        }

        const CUSTOMER_ORDERS: &str = "SELECT order_id FROM orders WHERE customer_id = $1";

        async fn section_rows(
            db: &sqlx::Pool<$db>,
            s: Section,
            who: &Person,
            after: &str,
            limit: i64,
        ) -> StoreResult<Vec<PersonRow>> {
            let cid = who.customer_id.as_str();
            let mut out = Vec::new();
            match s {
                Section::Customer => {
                    let rows = sqlx::query(
                        "SELECT customer_id, email, phone, name, created_at, invited_by, channel, first_order_at, last_order_at \
                         FROM customers WHERE customer_id = $1 AND customer_id > $2",
                    )
                    .bind(cid)
                    .bind(after)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    for r in rows {
                        let first: i64 = r.try_get("first_order_at").map_err(dberr)?;
                        out.push(PersonRow {
                            key: r.try_get("customer_id").map_err(dberr)?,
                            arose_at: first,
                            data: json!({
                                "customer_id": r.try_get::<String, _>("customer_id").map_err(dberr)?,
                                "email": r.try_get::<Option<String>, _>("email").map_err(dberr)?,
                                "phone": r.try_get::<Option<String>, _>("phone").map_err(dberr)?,
                                "name": r.try_get::<Option<String>, _>("name").map_err(dberr)?,
                                "created_at": r.try_get::<Option<String>, _>("created_at").map_err(dberr)?,
                                "invited_by": r.try_get::<Option<String>, _>("invited_by").map_err(dberr)?,
                                "channel": r.try_get::<Option<String>, _>("channel").map_err(dberr)?,
                                "first_order_at": ms_json(Some(first)),
                                "last_order_at": ms_json(r.try_get("last_order_at").map_err(dberr)?),
                            }),
                            open: None,
                        });
                    }
                }
                Section::Orders => {
                    let rows = sqlx::query(concat!(
                        "SELECT o.order_id, o.placed_at, o.received_at, ",
                        $body,
                        " AS body FROM orders o WHERE o.customer_id = $1 AND o.order_id > $2 ORDER BY o.order_id LIMIT $3"
                    ))
                    .bind(cid)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    if rows.is_empty() {
                        return Ok(out);
                    }
                    let ids: Vec<String> = rows.iter().map(|r| r.try_get("order_id")).collect::<Result<_, _>>().map_err(dberr)?;
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT order_id, seq, verdict, score, ruleset_version, CAST(reasons AS TEXT) AS reasons, decided_at FROM decisions WHERE order_id IN (",
                    );
                    let mut sep = q.separated(", ");
                    for id in &ids {
                        sep.push_bind(id.clone());
                    }
                    q.push(") ORDER BY order_id, seq");
                    let decisions = q.build().fetch_all(db).await.map_err(dberr)?;
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT id, order_id, action, reason, note, at FROM review_actions WHERE order_id IN (",
                    );
                    let mut sep = q.separated(", ");
                    for id in &ids {
                        sep.push_bind(id.clone());
                    }
                    q.push(") ORDER BY order_id, at");
                    let actions = q.build().fetch_all(db).await.map_err(dberr)?;
                    for r in rows {
                        let id: String = r.try_get("order_id").map_err(dberr)?;
                        let placed: i64 = r.try_get("placed_at").map_err(dberr)?;
                        let body: Vec<u8> = r.try_get("body").map_err(dberr)?;
                        let body = riskdesk_store::body::unpack(&body)?;
                        let mut ds = Vec::new();
                        for d in decisions.iter().filter(|d| d.try_get::<String, _>("order_id").is_ok_and(|o| o == id)) {
                            let reasons: String = d.try_get("reasons").map_err(dberr)?;
                            ds.push(json!({
                                "seq": d.try_get::<i64, _>("seq").map_err(dberr)?,
                                "verdict": d.try_get::<String, _>("verdict").map_err(dberr)?,
                                "score": d.try_get::<i64, _>("score").map_err(dberr)?,
                                "ruleset_version": d.try_get::<i64, _>("ruleset_version").map_err(dberr)?,
                                "reasons": parse_json(&reasons),
                                "decided_at": ms_json(d.try_get("decided_at").map_err(dberr)?),
                            }));
                        }
                        let mut acts = Vec::new();
                        for a in actions.iter().filter(|a| a.try_get::<String, _>("order_id").is_ok_and(|o| o == id)) {
                            acts.push(json!({
                                "id": a.try_get::<String, _>("id").map_err(dberr)?,
                                "action": a.try_get::<String, _>("action").map_err(dberr)?,
                                "reason": a.try_get::<String, _>("reason").map_err(dberr)?,
                                "note": a.try_get::<String, _>("note").map_err(dberr)?,
                                "at": ms_json(a.try_get("at").map_err(dberr)?),
                            }));
                        }
                        out.push(PersonRow {
                            key: id.clone(),
                            arose_at: placed,
                            data: json!({"order_id": id, "placed_at": ms_json(Some(placed)), "order": parse_json(&body),
                                         "decisions": ds, "review_actions": acts}),
                            open: None,
                        });
                    }
                }
                Section::Events => {
                    let rows = sqlx::query(
                        // Two index lookups (by customer, by the customer's orders) rather than an OR,
                        // which PostgreSQL answers by walking every event in key order.
                        "SELECT event_id, type, occurred_at, order_id, body FROM ( \
                           SELECT event_id, type, occurred_at, order_id, CAST(body AS TEXT) AS body FROM events WHERE customer_id = $1 AND event_id > $2 \
                           UNION SELECT e.event_id, e.type, e.occurred_at, e.order_id, CAST(e.body AS TEXT) AS body FROM events e \
                             JOIN orders o ON o.order_id = e.order_id WHERE o.customer_id = $1 AND e.event_id > $2) u \
                         ORDER BY event_id LIMIT $3",
                    )
                    .bind(cid)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    for r in rows {
                        let id: String = r.try_get("event_id").map_err(dberr)?;
                        let at: i64 = r.try_get("occurred_at").map_err(dberr)?;
                        let body: String = r.try_get("body").map_err(dberr)?;
                        let ty: String = r.try_get("type").map_err(dberr)?;
                        out.push(PersonRow {
                            key: id.clone(),
                            arose_at: at,
                            data: json!({"event_id": id, "type": ty, "occurred_at": ms_json(Some(at)), "event": parse_json(&body)}),
                            open: None,
                        });
                    }
                }
                Section::Cases => {
                    let rows = sqlx::query(
                        "SELECT id, kind, title, description, status, is_open, summary, resolution, created_at, closed_at FROM cases \
                         WHERE id > $2 AND id IN (SELECT case_id FROM case_links WHERE (kind = 'customer' AND value = $1) \
                           OR (kind = 'order' AND value IN (SELECT order_id FROM orders WHERE customer_id = $1))) \
                         ORDER BY id LIMIT $3",
                    )
                    .bind(cid)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    for r in rows {
                        let id: String = r.try_get("id").map_err(dberr)?;
                        let kind: String = r.try_get("kind").map_err(dberr)?;
                        let is_open: i64 = r.try_get("is_open").map_err(dberr)?;
                        let created: i64 = r.try_get("created_at").map_err(dberr)?;
                        let events = sqlx::query("SELECT id, at, kind, text FROM case_events WHERE case_id = $1 ORDER BY id")
                            .bind(&id)
                            .fetch_all(db)
                            .await
                            .map_err(dberr)?;
                        let mut evs = Vec::new();
                        for e in events {
                            evs.push(json!({"id": e.try_get::<i64, _>("id").map_err(dberr)?, "at": ms_json(e.try_get("at").map_err(dberr)?),
                                            "kind": e.try_get::<String, _>("kind").map_err(dberr)?, "text": e.try_get::<String, _>("text").map_err(dberr)?}));
                        }
                        let files = sqlx::query("SELECT id, name, content_type, size, sha256, added_at FROM case_attachments WHERE case_id = $1 ORDER BY id")
                            .bind(&id)
                            .fetch_all(db)
                            .await
                            .map_err(dberr)?;
                        let mut fs = Vec::new();
                        for f in files {
                            fs.push(json!({"id": f.try_get::<String, _>("id").map_err(dberr)?, "name": f.try_get::<String, _>("name").map_err(dberr)?,
                                           "content_type": f.try_get::<String, _>("content_type").map_err(dberr)?, "size": f.try_get::<i64, _>("size").map_err(dberr)?,
                                           "sha256": f.try_get::<String, _>("sha256").map_err(dberr)?, "added_at": ms_json(f.try_get("added_at").map_err(dberr)?)}));
                        }
                        // A case that can decide a legal claim keeps its evidence while open; a
                        // privacy case is the request's own record.
                        let claims = !matches!(kind.as_str(), "privacy_request" | "privacy_complaint");
                        out.push(PersonRow {
                            key: id.clone(),
                            arose_at: created,
                            open: (is_open != 0 && claims).then(|| format!("case {id}")),
                            data: json!({"case_id": id, "kind": kind, "title": r.try_get::<String, _>("title").map_err(dberr)?,
                                         "description": r.try_get::<String, _>("description").map_err(dberr)?,
                                         "status": r.try_get::<String, _>("status").map_err(dberr)?,
                                         "summary": r.try_get::<Option<String>, _>("summary").map_err(dberr)?,
                                         "resolution": r.try_get::<Option<String>, _>("resolution").map_err(dberr)?,
                                         "created_at": ms_json(Some(created)), "closed_at": ms_json(r.try_get("closed_at").map_err(dberr)?),
                                         "timeline": evs, "attachments": fs}),
                        });
                    }
                }
                Section::ListEntries => {
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT id, list, kind, value, reason, created_at, expires_at, removed_at FROM list_entries WHERE id > ",
                    );
                    q.push_bind(after.to_owned());
                    q.push(" AND ((kind = 'customer' AND value = ");
                    q.push_bind(cid.to_owned());
                    q.push(")");
                    if !who.match_keys.is_empty() {
                        q.push(" OR match_key IN (");
                        let mut sep = q.separated(", ");
                        for k in &who.match_keys {
                            sep.push_bind(k.clone());
                        }
                        q.push(")");
                    }
                    q.push(") ORDER BY id LIMIT ");
                    q.push_bind(limit);
                    for r in q.build().fetch_all(db).await.map_err(dberr)? {
                        let id: String = r.try_get("id").map_err(dberr)?;
                        let created: i64 = r.try_get("created_at").map_err(dberr)?;
                        out.push(PersonRow {
                            key: id.clone(),
                            arose_at: created,
                            open: None,
                            data: json!({"id": id, "list": r.try_get::<String, _>("list").map_err(dberr)?, "kind": r.try_get::<String, _>("kind").map_err(dberr)?,
                                         "value": r.try_get::<String, _>("value").map_err(dberr)?, "reason": r.try_get::<String, _>("reason").map_err(dberr)?,
                                         "created_at": ms_json(Some(created)), "expires_at": ms_json(r.try_get("expires_at").map_err(dberr)?),
                                         "removed_at": ms_json(r.try_get("removed_at").map_err(dberr)?)}),
                        });
                    }
                }
                Section::Disputes => {
                    let rows = sqlx::query(
                        "SELECT dispute_id, provider, provider_ref, order_id, stage, status, reason_code, reason_family, amount_minor, currency, \
                         is_open, opened_at, closed_at FROM disputes WHERE dispute_id > $2 \
                         AND dispute_id IN (SELECT dispute_id FROM disputes WHERE customer_id = $1 \
                           UNION SELECT d.dispute_id FROM disputes d JOIN orders o ON o.order_id = d.order_id WHERE o.customer_id = $1) \
                         ORDER BY dispute_id LIMIT $3",
                    )
                    .bind(cid)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    for r in rows {
                        let id: String = r.try_get("dispute_id").map_err(dberr)?;
                        let opened: i64 = r.try_get("opened_at").map_err(dberr)?;
                        let is_open: i64 = r.try_get("is_open").map_err(dberr)?;
                        let mut evs = Vec::new();
                        for e in sqlx::query("SELECT provider, dedupe_key, event_type, occurred_at, normalised, raw FROM dispute_events WHERE dispute_id = $1 ORDER BY occurred_at, dedupe_key")
                            .bind(&id)
                            .fetch_all(db)
                            .await
                            .map_err(dberr)?
                        {
                            evs.push(json!({"provider": e.try_get::<String, _>("provider").map_err(dberr)?, "dedupe_key": e.try_get::<String, _>("dedupe_key").map_err(dberr)?,
                                            "event_type": e.try_get::<String, _>("event_type").map_err(dberr)?, "occurred_at": ms_json(e.try_get("occurred_at").map_err(dberr)?),
                                            "normalised": e.try_get::<String, _>("normalised").map_err(dberr)?, "raw": e.try_get::<String, _>("raw").map_err(dberr)?}));
                        }
                        let mut ev = Vec::new();
                        for e in sqlx::query("SELECT item, note, at FROM dispute_evidence WHERE dispute_id = $1 ORDER BY item")
                            .bind(&id)
                            .fetch_all(db)
                            .await
                            .map_err(dberr)?
                        {
                            ev.push(json!({"item": e.try_get::<String, _>("item").map_err(dberr)?, "note": e.try_get::<String, _>("note").map_err(dberr)?,
                                           "at": ms_json(e.try_get("at").map_err(dberr)?)}));
                        }
                        out.push(PersonRow {
                            key: id.clone(),
                            arose_at: opened,
                            open: (is_open != 0).then(|| format!("dispute {id}")),
                            data: json!({"dispute_id": id, "provider": r.try_get::<String, _>("provider").map_err(dberr)?,
                                         "provider_ref": r.try_get::<String, _>("provider_ref").map_err(dberr)?,
                                         "order_id": r.try_get::<Option<String>, _>("order_id").map_err(dberr)?,
                                         "stage": r.try_get::<String, _>("stage").map_err(dberr)?, "status": r.try_get::<String, _>("status").map_err(dberr)?,
                                         "reason_code": r.try_get::<Option<String>, _>("reason_code").map_err(dberr)?,
                                         "reason_family": r.try_get::<String, _>("reason_family").map_err(dberr)?,
                                         "amount_minor": r.try_get::<i64, _>("amount_minor").map_err(dberr)?, "currency": r.try_get::<String, _>("currency").map_err(dberr)?,
                                         "opened_at": ms_json(Some(opened)), "closed_at": ms_json(r.try_get("closed_at").map_err(dberr)?),
                                         "notifications": evs, "evidence": ev}),
                        });
                    }
                }
                Section::Handlings => {
                    let rows = sqlx::query(
                        "SELECT handling_id, agent, provider, channel, closed_at, case_ref, order_ids, actions, csat, transcript FROM handlings \
                         WHERE customer_id = $1 AND handling_id > $2 ORDER BY handling_id LIMIT $3",
                    )
                    .bind(cid)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    for r in rows {
                        let id: String = r.try_get("handling_id").map_err(dberr)?;
                        let closed: i64 = r.try_get("closed_at").map_err(dberr)?;
                        let orders: String = r.try_get("order_ids").map_err(dberr)?;
                        let actions: String = r.try_get("actions").map_err(dberr)?;
                        out.push(PersonRow {
                            key: id.clone(),
                            arose_at: closed,
                            open: None,
                            data: json!({"handling_id": id, "channel": r.try_get::<String, _>("channel").map_err(dberr)?,
                                         "provider": r.try_get::<String, _>("provider").map_err(dberr)?,
                                         "closed_at": ms_json(Some(closed)), "case_ref": r.try_get::<Option<String>, _>("case_ref").map_err(dberr)?,
                                         "order_ids": parse_json(&orders), "actions": parse_json(&actions),
                                         "csat": r.try_get::<Option<i64>, _>("csat").map_err(dberr)?,
                                         "transcript": r.try_get::<String, _>("transcript").map_err(dberr)?}),
                        });
                    }
                }
                Section::AccessLog => {
                    // Keys are the sequence numbers, zero-padded so that text order is number order.
                    let after_seq: i64 = after.parse().unwrap_or(0);
                    let rows = sqlx::query(
                        "SELECT seq, at, action, purpose, subject FROM audit_log WHERE seq > $2 AND action LIKE 'personal_data.%' \
                         AND (subject = 'customer:' || $1 OR subject IN (SELECT 'order:' || order_id FROM orders WHERE customer_id = $1)) \
                         ORDER BY seq LIMIT $3",
                    )
                    .bind(cid)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    for r in rows {
                        let seq: i64 = r.try_get("seq").map_err(dberr)?;
                        let at: i64 = r.try_get("at").map_err(dberr)?;
                        out.push(PersonRow {
                            key: format!("{seq:020}"),
                            arose_at: at,
                            open: None,
                            data: json!({"at": ms_json(Some(at)), "action": r.try_get::<String, _>("action").map_err(dberr)?,
                                         "purpose": r.try_get::<Option<String>, _>("purpose").map_err(dberr)?,
                                         "record": r.try_get::<String, _>("subject").map_err(dberr)?}),
                        });
                    }
                }
                Section::Vault => {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {VAULT_COLS} FROM privacy_vault WHERE customer_id = $1 AND vault_id > $2 ORDER BY vault_id LIMIT $3"
                    )))
                    .bind(cid)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(db)
                    .await
                    .map_err(dberr)?;
                    for r in rows {
                        let v = vault_from(&r)?;
                        out.push(PersonRow {
                            key: v.vault_id.clone(),
                            arose_at: v.created_at.timestamp_millis(),
                            open: None,
                            data: json!({"record_kind": v.record_kind, "record_id": v.record_id, "kept": parse_json(&v.fields),
                                         "class": v.class, "until": v.until, "reason": v.reason}),
                        });
                    }
                }
            }
            Ok(out)
        }

        async fn rewrite(tx: &mut Tx<'_>, s: Section, key: &str, d: &Value) -> StoreResult<()> {
            match s {
                Section::Customer => {
                    sqlx::query("UPDATE customers SET email = $1, phone = $2, name = $3 WHERE customer_id = $4")
                        .bind(text(d, "email"))
                        .bind(text(d, "phone"))
                        .bind(text(d, "name"))
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                Section::Orders => {
                    sqlx::query(concat!("UPDATE orders SET body = $1", $jcast, " WHERE order_id = $2"))
                        .bind(d["order"].to_string())
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    for x in d["decisions"].as_array().into_iter().flatten() {
                        sqlx::query(concat!("UPDATE decisions SET reasons = $1", $jcast, " WHERE order_id = $2 AND seq = $3"))
                            .bind(x["reasons"].to_string())
                            .bind(key)
                            .bind(x["seq"].as_i64().unwrap_or(0))
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    for x in d["review_actions"].as_array().into_iter().flatten() {
                        sqlx::query("UPDATE review_actions SET note = $1 WHERE id = $2")
                            .bind(text(x, "note").unwrap_or_default())
                            .bind(text(x, "id").unwrap_or_default())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                }
                Section::Events => {
                    sqlx::query(concat!("UPDATE events SET body = $1", $jcast, " WHERE event_id = $2"))
                        .bind(d["event"].to_string())
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                Section::Cases => {
                    sqlx::query("UPDATE cases SET title = $1, description = $2, summary = $3 WHERE id = $4")
                        .bind(text(d, "title").unwrap_or_default())
                        .bind(text(d, "description").unwrap_or_default())
                        .bind(text(d, "summary"))
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    for e in d["timeline"].as_array().into_iter().flatten() {
                        sqlx::query("UPDATE case_events SET text = $1 WHERE id = $2")
                            .bind(text(e, "text").unwrap_or_default())
                            .bind(e["id"].as_i64().unwrap_or(0))
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    for f in d["attachments"].as_array().into_iter().flatten() {
                        if f["erase"].as_bool() == Some(true) {
                            sqlx::query("UPDATE case_attachments SET name = '[erased]', data = $1, size = 0 WHERE id = $2")
                                .bind(Vec::<u8>::new())
                                .bind(text(f, "id").unwrap_or_default())
                                .execute(&mut **tx)
                                .await
                                .map_err(dberr)?;
                        }
                    }
                }
                Section::ListEntries => {
                    sqlx::query("UPDATE list_entries SET value = $1, reason = $2 WHERE id = $3")
                        .bind(text(d, "value").unwrap_or_default())
                        .bind(text(d, "reason").unwrap_or_default())
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                Section::Disputes => {
                    for e in d["notifications"].as_array().into_iter().flatten() {
                        sqlx::query("UPDATE dispute_events SET normalised = $1, raw = $2 WHERE provider = $3 AND dedupe_key = $4")
                            .bind(text(e, "normalised").unwrap_or_default())
                            .bind(text(e, "raw").unwrap_or_default())
                            .bind(text(e, "provider").unwrap_or_default())
                            .bind(text(e, "dedupe_key").unwrap_or_default())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    for e in d["evidence"].as_array().into_iter().flatten() {
                        sqlx::query("UPDATE dispute_evidence SET note = $1 WHERE dispute_id = $2 AND item = $3")
                            .bind(text(e, "note").unwrap_or_default())
                            .bind(key)
                            .bind(text(e, "item").unwrap_or_default())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                }
                Section::Handlings => {
                    sqlx::query("UPDATE handlings SET transcript = $1 WHERE handling_id = $2")
                        .bind(text(d, "transcript").unwrap_or_default())
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                Section::AccessLog | Section::Vault => {}
            }
            Ok(())
        }

        async fn write_request(tx: &mut Tx<'_>, r: &RequestRecord, expected: i64) -> StoreResult<()> {
            let status_open = riskdesk_domain::privacy::Status::parse(&r.status).is_some_and(|s| s.is_open());
            let n = if expected == 0 {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO privacy_requests ({REQUEST_COLS}, is_open) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                     $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
                )))
            } else {
                sqlx::query(
                    "UPDATE privacy_requests SET request_id = $1, case_id = $2, customer_id = $3, right_code = $4, channel = $5, status = $6, \
                     received_at = $7, received_on = $8, months = $9, paused_days = $10, paused_since = $11, extension_reason = $12, identity = $13, \
                     identity_method = $14, identity_evidence = $15, code_hash = $16, code_expires_at = $17, details = $18, answer = $19, flags = $20, \
                     duplicates = $21, created_by = $22, created_at = $23, updated_at = $24, closed_at = $25, warned_days = $26, version = $27, \
                     is_open = $28 WHERE request_id = $1 AND version = $29",
                )
            }
            .bind(&r.request_id)
            .bind(&r.case_id)
            .bind(&r.customer_id)
            .bind(&r.right)
            .bind(&r.channel)
            .bind(&r.status)
            .bind(r.received_at.timestamp_millis())
            .bind(&r.received_on)
            .bind(r.months)
            .bind(r.paused_days)
            .bind(&r.paused_since)
            .bind(&r.extension_reason)
            .bind(&r.identity)
            .bind(&r.identity_method)
            .bind(&r.identity_evidence)
            .bind(&r.code_hash)
            .bind(opt_ms(r.code_expires_at))
            .bind(&r.details)
            .bind(&r.answer)
            .bind(riskdesk_store::qa::to_json(&r.flags))
            .bind(r.duplicates)
            .bind(&r.created_by)
            .bind(r.created_at.timestamp_millis())
            .bind(r.updated_at.timestamp_millis())
            .bind(opt_ms(r.closed_at))
            .bind(r.warned_days)
            .bind(r.version)
            .bind(i64::from(status_open))
            .bind(expected)
            .execute(&mut **tx)
            .await
            .map_err(|e| if unique_violation(&e) { StoreError::Conflict("the request exists".into()) } else { dberr(e) })?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!("the request {} changed meanwhile", r.request_id)));
            }
            Ok(())
        }

        async fn write_job(tx: &mut Tx<'_>, j: &JobRecord, expected: Option<DateTime<Utc>>) -> StoreResult<()> {
            let n = match expected {
                None => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO privacy_jobs ({JOB_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ))),
                Some(_) => sqlx::query(
                    "UPDATE privacy_jobs SET job_id = $1, request_id = $2, kind = $3, status = $4, section = $5, cursor = $6, done_rows = $7, \
                     actor = $8, error = $9, attempts = $10, scratch = $11, created_at = $12, updated_at = $13, finished_at = $14 \
                     WHERE job_id = $1 AND updated_at = $15",
                ),
            }
            .bind(&j.job_id)
            .bind(&j.request_id)
            .bind(&j.kind)
            .bind(&j.status)
            .bind(j.section)
            .bind(&j.cursor)
            .bind(j.done_rows)
            .bind(&j.actor)
            .bind(&j.error)
            .bind(j.attempts)
            .bind(&j.scratch)
            .bind(j.created_at.timestamp_millis())
            .bind(j.updated_at.timestamp_millis())
            .bind(opt_ms(j.finished_at))
            .bind(expected.map(|t| t.timestamp_millis()))
            .execute(&mut **tx)
            .await
            .map_err(dberr)?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!("the job {} moved on meanwhile", j.job_id)));
            }
            Ok(())
        }

        async fn write_breach(tx: &mut Tx<'_>, b: &BreachRecord, expected: i64) -> StoreResult<()> {
            let n = if expected == 0 {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO privacy_breaches ({BREACH_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
                )))
            } else {
                sqlx::query(
                    "UPDATE privacy_breaches SET breach_id = $1, title = $2, description = $3, occurred_at = $4, aware_at = $5, risk = $6, \
                     people_affected = $7, categories = $8, authority_notified_at = $9, people_notified_at = $10, people_decision = $11, \
                     request_id = $12, status = $13, created_by = $14, created_at = $15, updated_at = $16, version = $17 \
                     WHERE breach_id = $1 AND version = $18",
                )
            }
            .bind(&b.breach_id)
            .bind(&b.title)
            .bind(&b.description)
            .bind(opt_ms(b.occurred_at))
            .bind(b.aware_at.timestamp_millis())
            .bind(&b.risk)
            .bind(b.people_affected)
            .bind(&b.categories)
            .bind(opt_ms(b.authority_notified_at))
            .bind(opt_ms(b.people_notified_at))
            .bind(&b.people_decision)
            .bind(&b.request_id)
            .bind(&b.status)
            .bind(&b.created_by)
            .bind(b.created_at.timestamp_millis())
            .bind(b.updated_at.timestamp_millis())
            .bind(b.version)
            .bind(expected)
            .execute(&mut **tx)
            .await
            .map_err(dberr)?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!("the breach {} changed meanwhile", b.breach_id)));
            }
            Ok(())
        }

        async fn apply_privacy(tx: &mut Tx<'_>, c: &PrivacyChange) -> StoreResult<()> {
            match c {
                PrivacyChange::Request { request, expected_version } => write_request(tx, request, *expected_version).await?,
                PrivacyChange::Event(e) => {
                    sqlx::query("INSERT INTO privacy_request_events (request_id, at, actor, kind, text) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&e.request_id)
                        .bind(e.at.timestamp_millis())
                        .bind(&e.actor)
                        .bind(&e.kind)
                        .bind(&e.text)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                PrivacyChange::Job { job, expected_updated } => write_job(tx, job, *expected_updated).await?,
                PrivacyChange::Rewrite { section, key, data } => rewrite(tx, *section, key, data).await?,
                PrivacyChange::Outcome(o) => {
                    sqlx::query(
                        "INSERT INTO privacy_outcomes (request_id, record_kind, record_id, outcome, until, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (request_id, record_kind, record_id) DO UPDATE SET outcome = excluded.outcome, until = excluded.until, \
                         reason = excluded.reason, at = excluded.at",
                    )
                    .bind(&o.request_id)
                    .bind(&o.record_kind)
                    .bind(&o.record_id)
                    .bind(&o.outcome)
                    .bind(&o.until)
                    .bind(&o.reason)
                    .bind(o.at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                }
                PrivacyChange::Vault(v) => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO privacy_vault ({VAULT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (vault_id) DO NOTHING"
                    )))
                    .bind(&v.vault_id)
                    .bind(&v.customer_id)
                    .bind(&v.record_kind)
                    .bind(&v.record_id)
                    .bind(&v.fields)
                    .bind(&v.class)
                    .bind(&v.reason)
                    .bind(&v.until)
                    .bind(&v.request_id)
                    .bind(v.created_at.timestamp_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                }
                PrivacyChange::DropVault(ids) => {
                    for id in ids {
                        sqlx::query("DELETE FROM privacy_vault WHERE vault_id = $1").bind(id).execute(&mut **tx).await.map_err(dberr)?;
                    }
                }
                PrivacyChange::ExportPart { job_id, section, seq, body } => {
                    sqlx::query(
                        "INSERT INTO privacy_export_parts (job_id, section, seq, body) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (job_id, section, seq) DO UPDATE SET body = excluded.body",
                    )
                    .bind(job_id)
                    .bind(section)
                    .bind(seq)
                    .bind(body)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                }
                PrivacyChange::Breach { breach, expected_version } => write_breach(tx, breach, *expected_version).await?,
                PrivacyChange::BreachEvent(e) => {
                    sqlx::query("INSERT INTO privacy_breach_events (breach_id, at, actor, phase, text) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&e.breach_id)
                        .bind(e.at.timestamp_millis())
                        .bind(&e.actor)
                        .bind(&e.phase)
                        .bind(&e.text)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                PrivacyChange::DropExports(customer) => {
                    sqlx::query(
                        "DELETE FROM privacy_export_parts WHERE job_id IN (SELECT j.job_id FROM privacy_jobs j \
                         JOIN privacy_requests r ON r.request_id = j.request_id WHERE r.customer_id = $1)",
                    )
                    .bind(customer)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                }
                PrivacyChange::OrderBodies(bodies) => {
                    // One statement per 500 rows; where bodies are stored packed (no JSON cast:
                    // SQLite) they are packed again, so a sweep does not grow the file.
                    let packed: Vec<Option<Vec<u8>>> = if $jcast.is_empty() {
                        use rayon::prelude::*;
                        bodies.par_iter().map(|(_, body)| riskdesk_store::body::pack(body)).collect()
                    } else {
                        vec![None; bodies.len()]
                    };
                    let rows: Vec<_> = bodies.iter().zip(packed).collect();
                    for chunk in rows.chunks(500) {
                        let mut q = QueryBuilder::<$db>::new(concat!("UPDATE orders SET body = v.column2", $jcast, " FROM ("));
                        q.push_values(chunk, |mut b, ((id, body), packed)| {
                            b.push_bind(id.clone());
                            match packed {
                                Some(p) => b.push_bind(p.clone()),
                                None => b.push_bind(body.clone()),
                            };
                        });
                        q.push(") AS v WHERE orders.order_id = v.column1");
                        q.build().execute(&mut **tx).await.map_err(dberr)?;
                    }
                }
                PrivacyChange::Notification(n) => {
                    sqlx::query("INSERT INTO privacy_notifications (request_id, recipient, action, at, actor, note) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(&n.request_id)
                        .bind(&n.recipient)
                        .bind(&n.action)
                        .bind(n.at.timestamp_millis())
                        .bind(&n.actor)
                        .bind(&n.note)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl PrivacyStore for $store {
            async fn privacy_request(&self, id: &str) -> StoreResult<Option<RequestRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {REQUEST_COLS} FROM privacy_requests WHERE request_id = $1")))
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?
                    .map(|r| request_from(&r))
                    .transpose()
            }

            async fn privacy_requests(&self, f: &RequestFilter) -> StoreResult<Vec<RequestRecord>> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {REQUEST_COLS} FROM privacy_requests WHERE 1 = 1"));
                match &f.statuses {
                    None => {
                        q.push(" AND is_open = 1");
                    }
                    Some(s) if !s.is_empty() => {
                        q.push(" AND status IN (");
                        let mut sep = q.separated(", ");
                        for x in s {
                            sep.push_bind(x.clone());
                        }
                        q.push(")");
                    }
                    Some(_) => {}
                }
                if let Some(c) = &f.customer_id {
                    q.push(" AND customer_id = ").push_bind(c.clone());
                }
                if let Some(r) = &f.right {
                    q.push(" AND right_code = ").push_bind(r.clone());
                }
                q.push(" ORDER BY received_at LIMIT ").push_bind(f.limit.clamp(1, 2000));
                q.build().fetch_all(&self.$r).await.map_err(dberr)?.iter().map(request_from).collect()
            }

            async fn privacy_request_events(&self, id: &str) -> StoreResult<Vec<RequestEvent>> {
                let rows = sqlx::query("SELECT id, request_id, at, actor, kind, text FROM privacy_request_events WHERE request_id = $1 ORDER BY id")
                    .bind(id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(RequestEvent {
                            id: r.try_get("id").map_err(dberr)?,
                            request_id: r.try_get("request_id").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                            actor: r.try_get("actor").map_err(dberr)?,
                            kind: r.try_get("kind").map_err(dberr)?,
                            text: r.try_get("text").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn person_rows(&self, s: Section, who: &Person, after: &str, limit: i64) -> StoreResult<Vec<PersonRow>> {
                section_rows(&self.$w, s, who, after, limit.clamp(1, 10_000)).await
            }

            async fn privacy_job(&self, id: &str) -> StoreResult<Option<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE job_id = $1")))
                    .bind(id)
                    .fetch_optional(&self.$w)
                    .await
                    .map_err(dberr)?
                    .map(|r| job_from(&r))
                    .transpose()
            }

            async fn privacy_jobs_open(&self) -> StoreResult<Vec<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE status IN ('queued', 'running') ORDER BY created_at LIMIT 100")))
                    .fetch_all(&self.$w)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(job_from)
                    .collect()
            }

            async fn privacy_jobs_of(&self, request_id: &str) -> StoreResult<Vec<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE request_id = $1 ORDER BY created_at")))
                    .bind(request_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(job_from)
                    .collect()
            }

            async fn export_parts(&self, job_id: &str) -> StoreResult<Vec<(i64, String)>> {
                let rows: Vec<(i64, String)> =
                    sqlx::query_as("SELECT section, body FROM privacy_export_parts WHERE job_id = $1 ORDER BY section, seq")
                        .bind(job_id)
                        .fetch_all(&self.$r)
                        .await
                        .map_err(dberr)?;
                Ok(rows)
            }

            async fn privacy_outcomes(&self, request_id: &str) -> StoreResult<Vec<OutcomeRow>> {
                let rows = sqlx::query(
                    "SELECT request_id, record_kind, record_id, outcome, until, reason, at FROM privacy_outcomes WHERE request_id = $1 \
                     ORDER BY record_kind, record_id",
                )
                .bind(request_id)
                .fetch_all(&self.$r)
                .await
                .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(OutcomeRow {
                            request_id: r.try_get("request_id").map_err(dberr)?,
                            record_kind: r.try_get("record_kind").map_err(dberr)?,
                            record_id: r.try_get("record_id").map_err(dberr)?,
                            outcome: r.try_get("outcome").map_err(dberr)?,
                            until: r.try_get("until").map_err(dberr)?,
                            reason: r.try_get("reason").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                        })
                    })
                    .collect()
            }

            async fn vault_rows(&self, customer_id: &str) -> StoreResult<Vec<VaultRow>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {VAULT_COLS} FROM privacy_vault WHERE customer_id = $1 ORDER BY record_kind, record_id")))
                    .bind(customer_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(vault_from)
                    .collect()
            }

            async fn vault_fields(&self, vault_id: &str) -> StoreResult<Option<VaultRow>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {VAULT_COLS} FROM privacy_vault WHERE vault_id = $1")))
                    .bind(vault_id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?
                    .map(|r| vault_from(&r))
                    .transpose()
            }

            async fn vault_expired(&self, today: &str, after: &str, limit: i64) -> StoreResult<Vec<VaultRow>> {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {VAULT_COLS} FROM privacy_vault WHERE until < $1 AND vault_id > $2 ORDER BY vault_id LIMIT $3"
                )))
                .bind(today)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.$w)
                .await
                .map_err(dberr)?
                .iter()
                .map(vault_from)
                .collect()
            }

            async fn breach(&self, id: &str) -> StoreResult<Option<BreachRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BREACH_COLS} FROM privacy_breaches WHERE breach_id = $1")))
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(dberr)?
                    .map(|r| breach_from(&r))
                    .transpose()
            }

            async fn breaches(&self, open_only: bool, limit: i64) -> StoreResult<Vec<BreachRecord>> {
                let filter = if open_only { "WHERE status = 'open'" } else { "" };
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BREACH_COLS} FROM privacy_breaches {filter} ORDER BY aware_at DESC LIMIT $1")))
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(breach_from)
                    .collect()
            }

            async fn breach_events(&self, id: &str) -> StoreResult<Vec<BreachEvent>> {
                let rows = sqlx::query("SELECT id, breach_id, at, actor, phase, text FROM privacy_breach_events WHERE breach_id = $1 ORDER BY id")
                    .bind(id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(BreachEvent {
                            id: r.try_get("id").map_err(dberr)?,
                            breach_id: r.try_get("breach_id").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                            actor: r.try_get("actor").map_err(dberr)?,
                            phase: r.try_get("phase").map_err(dberr)?,
                            text: r.try_get("text").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn privacy_notifications(&self, request_id: &str) -> StoreResult<Vec<Notification>> {
                let rows = sqlx::query("SELECT request_id, recipient, action, at, actor, note FROM privacy_notifications WHERE request_id = $1 ORDER BY at")
                    .bind(request_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?;
                rows.iter()
                    .map(|r| {
                        Ok(Notification {
                            request_id: r.try_get("request_id").map_err(dberr)?,
                            recipient: r.try_get("recipient").map_err(dberr)?,
                            action: r.try_get("action").map_err(dberr)?,
                            at: from_millis(r.try_get("at").map_err(dberr)?)?,
                            actor: r.try_get("actor").map_err(dberr)?,
                            note: r.try_get("note").map_err(dberr)?,
                        })
                    })
                    .collect()
            }

            async fn sweep_runs(&self, limit: i64) -> StoreResult<Vec<JobRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLS} FROM privacy_jobs WHERE kind = 'sweep' ORDER BY created_at DESC LIMIT $1")))
                    .bind(limit)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(dberr)?
                    .iter()
                    .map(job_from)
                    .collect()
            }

            // The cursor's lower bound is written out as a range (`placed_at >= $2`): with only
            // the OR, PostgreSQL scanned from the oldest order at every batch.
            async fn sweep_orders(&self, before_ms: i64, after: (i64, &str), limit: i64) -> StoreResult<Vec<SweepOrder>> {
                let rows = sqlx::query(concat!(
                    "SELECT o.order_id, o.customer_id, o.placed_at, ",
                    $body,
                    " AS body FROM orders o WHERE o.placed_at >= $2 AND o.placed_at < $1 AND (o.placed_at > $2 OR o.order_id > $3) \
                     ORDER BY o.placed_at, o.order_id LIMIT $4"
                ))
                .bind(before_ms)
                .bind(after.0)
                .bind(after.1)
                .bind(limit)
                .fetch_all(&self.$w)
                .await
                .map_err(dberr)?;
                let raw = rows
                    .iter()
                    .map(|r| {
                        let body: Vec<u8> = r.try_get("body").map_err(dberr)?;
                        Ok((r.try_get("order_id").map_err(dberr)?, r.try_get("customer_id").map_err(dberr)?, r.try_get("placed_at").map_err(dberr)?, body))
                    })
                    .collect::<StoreResult<Vec<(String, String, i64, Vec<u8>)>>>()?;
                // Unpacking is the read's work: on every core.
                use rayon::prelude::*;
                raw.into_par_iter()
                    .map(|(order_id, customer_id, placed_at, body)| {
                        Ok(SweepOrder { order_id, customer_id, placed_at, body: riskdesk_store::body::unpack(&body)?.into_owned() })
                    })
                    .collect()
            }

            async fn held_customers(&self, customers: &[String]) -> StoreResult<Vec<String>> {
                if customers.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = QueryBuilder::<$db>::new("SELECT DISTINCT customer_id FROM disputes WHERE is_open = 1 AND customer_id IN (");
                let mut sep = q.separated(", ");
                for c in customers {
                    sep.push_bind(c.clone());
                }
                q.push(") UNION SELECT DISTINCT l.value FROM case_links l JOIN cases c ON c.id = l.case_id \
                         WHERE c.is_open = 1 AND c.kind NOT IN ('privacy_request', 'privacy_complaint') AND l.kind = 'customer' AND l.value IN (");
                let mut sep = q.separated(", ");
                for c in customers {
                    sep.push_bind(c.clone());
                }
                q.push(")");
                let rows = q.build().fetch_all(&self.$r).await.map_err(dberr)?;
                rows.iter().map(|r| r.try_get::<String, _>(0).map_err(dberr)).collect()
            }
        }
    };
}
