//! The privacy area's changes, each in the caller's transaction: a scrubbed record written
//! back by section, requests and jobs by compare-and-set, breaches, outcomes, the vault, export
//! parts, swept order bodies.
#[doc(hidden)]
#[macro_export]
macro_rules! privacy_changes_sql {
    ($db:ty, $jcast:literal) => {
        async fn rewrite(tx: &mut Tx<'_>, s: Section, key: &str, d: &Value) -> StoreResult<()> {
            match s {
                Section::Customer => {
                    use riskdesk_store::codec::{CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_PHONE};
                    use riskdesk_store::seal::seal_opt;
                    sqlx::query("UPDATE customers SET email = $1, phone = $2, name = $3 WHERE customer_id = $4")
                        .bind(seal_opt(CUSTOMER_EMAIL, text(d, "email").as_deref()))
                        .bind(seal_opt(CUSTOMER_PHONE, text(d, "phone").as_deref()))
                        .bind(seal_opt(CUSTOMER_NAME, text(d, "name").as_deref()))
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                Section::Orders => {
                    sqlx::query("UPDATE orders SET body = $1 WHERE order_id = $2")
                        .bind(riskdesk_store::body::store_json(&d["order"].to_string()))
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
                            .bind(riskdesk_store::seal::seal(riskdesk_store::review::NOTE_FIELD, &text(x, "note").unwrap_or_default()))
                            .bind(text(x, "id").unwrap_or_default())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                }
                Section::Events => {
                    sqlx::query("UPDATE events SET body = $1 WHERE event_id = $2")
                        .bind(riskdesk_store::seal::seal(riskdesk_store::codec::EVENT_FIELD, &d["event"].to_string()))
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                Section::Cases => {
                    use riskdesk_store::cases::{DESCRIPTION, SUMMARY};
                    use riskdesk_store::seal::{seal, seal_opt};
                    sqlx::query("UPDATE cases SET title = $1, description = $2, summary = $3 WHERE id = $4")
                        .bind(text(d, "title").unwrap_or_default())
                        .bind(seal(DESCRIPTION, &text(d, "description").unwrap_or_default()))
                        .bind(seal_opt(SUMMARY, text(d, "summary").as_deref()))
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    for e in d["timeline"].as_array().into_iter().flatten() {
                        sqlx::query("UPDATE case_events SET text = $1 WHERE id = $2")
                            .bind(seal(riskdesk_store::cases::EVENT_TEXT, &text(e, "text").unwrap_or_default()))
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
                        .bind(riskdesk_store::seal::seal(riskdesk_store::codec::LIST_VALUE, &text(d, "value").unwrap_or_default()))
                        .bind(text(d, "reason").unwrap_or_default())
                        .bind(key)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
                Section::Disputes => {
                    for e in d["notifications"].as_array().into_iter().flatten() {
                        sqlx::query("UPDATE dispute_events SET normalised = $1, raw = $2 WHERE provider = $3 AND dedupe_key = $4")
                            .bind(riskdesk_store::seal::seal(riskdesk_store::disputes::EVENT_NORMALISED, &text(e, "normalised").unwrap_or_default()))
                            .bind(riskdesk_store::seal::seal(riskdesk_store::disputes::EVENT_RAW, &text(e, "raw").unwrap_or_default()))
                            .bind(text(e, "provider").unwrap_or_default())
                            .bind(text(e, "dedupe_key").unwrap_or_default())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    for e in d["evidence"].as_array().into_iter().flatten() {
                        sqlx::query("UPDATE dispute_evidence SET note = $1 WHERE dispute_id = $2 AND item = $3")
                            .bind(riskdesk_store::seal::seal(riskdesk_store::disputes::EVIDENCE_NOTE, &text(e, "note").unwrap_or_default()))
                            .bind(key)
                            .bind(text(e, "item").unwrap_or_default())
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                }
                Section::Handlings => {
                    sqlx::query("UPDATE handlings SET transcript = $1 WHERE handling_id = $2")
                        .bind(riskdesk_store::seal::seal(riskdesk_store::qa::TRANSCRIPT, &text(d, "transcript").unwrap_or_default()))
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
            .bind(riskdesk_store::seal::seal_opt(riskdesk_store::privacy::IDENTITY_EVIDENCE, r.identity_evidence.as_deref()))
            .bind(&r.code_hash)
            .bind(opt_ms(r.code_expires_at))
            .bind(riskdesk_store::seal::seal(riskdesk_store::privacy::DETAILS, &r.details))
            .bind(riskdesk_store::seal::seal_opt(riskdesk_store::privacy::ANSWER, r.answer.as_deref()))
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
                        .bind(riskdesk_store::seal::seal(riskdesk_store::privacy::EVENT_TEXT, &e.text))
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
                    .bind(riskdesk_store::seal::seal(riskdesk_store::privacy::VAULT_FIELDS, &v.fields))
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
                    .bind(riskdesk_store::seal::seal(riskdesk_store::privacy::EXPORT_BODY, body))
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
                        .bind(riskdesk_store::seal::seal(riskdesk_store::privacy::BREACH_EVENT_TEXT, &e.text))
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
                    // Each backend writes them its fastest way.
                    let (ids, stored) = bodies.iter().cloned().unzip();
                    set_order_bodies(tx, ids, stored).await.map_err(dberr)?;
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

    };
}
