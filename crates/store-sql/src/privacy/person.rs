//! A person's records, section by section in key order (customer, orders with their decisions
//! and review actions, events, cases, list entries, disputes, handlings, access log, vault): what
//! an access package collects and an erasure walks.
#[doc(hidden)]
#[macro_export]
macro_rules! privacy_person_sql {
    ($db:ty, $body:literal) => {
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
                                "email": open_col_opt(&r, "email", riskdesk_store::codec::CUSTOMER_EMAIL)?,
                                "phone": open_col_opt(&r, "phone", riskdesk_store::codec::CUSTOMER_PHONE)?,
                                "name": open_col_opt(&r, "name", riskdesk_store::codec::CUSTOMER_NAME)?,
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
                                "note": open_col(a, "note", riskdesk_store::review::NOTE_FIELD)?,
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
                        let body = riskdesk_store::codec::event_json(&body)?;
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
                                            "kind": e.try_get::<String, _>("kind").map_err(dberr)?, "text": open_col(&e, "text", riskdesk_store::cases::EVENT_TEXT)?}));
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
                                         "description": open_col(&r, "description", riskdesk_store::cases::DESCRIPTION)?,
                                         "status": r.try_get::<String, _>("status").map_err(dberr)?,
                                         "summary": open_col_opt(&r, "summary", riskdesk_store::cases::SUMMARY)?,
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
                    q.push(" AND ((kind = 'customer' AND match_key = ");
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
                                         "value": open_col(&r, "value", riskdesk_store::codec::LIST_VALUE)?, "reason": r.try_get::<String, _>("reason").map_err(dberr)?,
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
                                            "normalised": open_col(&e, "normalised", riskdesk_store::disputes::EVENT_NORMALISED)?,
                                            "raw": open_col(&e, "raw", riskdesk_store::disputes::EVENT_RAW)?}));
                        }
                        let mut ev = Vec::new();
                        for e in sqlx::query("SELECT item, note, at FROM dispute_evidence WHERE dispute_id = $1 ORDER BY item")
                            .bind(&id)
                            .fetch_all(db)
                            .await
                            .map_err(dberr)?
                        {
                            ev.push(json!({"item": e.try_get::<String, _>("item").map_err(dberr)?, "note": open_col(&e, "note", riskdesk_store::disputes::EVIDENCE_NOTE)?,
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
                                         "transcript": open_col(&r, "transcript", riskdesk_store::qa::TRANSCRIPT)?}),
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
    };
}
