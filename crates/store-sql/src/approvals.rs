//! Four-eye proposals: stored with their payload, changed by compare-and-set on their revision.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The approvals area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! approvals_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        const PROPOSAL_COLS: &str = "id, kind, approver, target, payload, payload_hash, makers, created_at, \
             expires_at, status, decided_by, decided_at, decision_note, revision";
            fn proposal_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<Proposal> {
                let kind: String = row.try_get("kind").map_err(dberr)?;
                let approver: String = row.try_get("approver").map_err(dberr)?;
                let status: String = row.try_get("status").map_err(dberr)?;
                let makers: String = row.try_get("makers").map_err(dberr)?;
                Ok(Proposal {
                    id: row.try_get("id").map_err(dberr)?,
                    kind,
                    approver: riskdesk_domain::Permission::parse(&approver)
                        .ok_or_else(|| StoreError::Corrupt(format!("approver {approver}")))?,
                    target: row.try_get("target").map_err(dberr)?,
                    payload: row.try_get("payload").map_err(dberr)?,
                    payload_hash: row.try_get("payload_hash").map_err(dberr)?,
                    makers: serde_json::from_str(&makers).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                    expires_at: from_millis(row.try_get("expires_at").map_err(dberr)?)?,
                    status: ProposalStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
                    decided_by: row.try_get("decided_by").map_err(dberr)?,
                    decided_at: opt_time(row.try_get("decided_at").map_err(dberr)?)?,
                    decision_note: row.try_get("decision_note").map_err(dberr)?,
                    revision: row.try_get("revision").map_err(dberr)?,
                })
            }

            async fn write_proposal(tx: &mut Tx<'_>, p: &Proposal) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO proposals (id, kind, target, payload, payload_hash, makers, created_at, expires_at, \
                     status, decided_by, decided_at, decision_note, revision, approver) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&p.id)
                .bind(&p.kind)
                .bind(&p.target)
                .bind(&p.payload)
                .bind(&p.payload_hash)
                .bind(serde_json::to_string(&p.makers).unwrap_or_else(|_| "[]".into()))
                .bind(p.created_at.timestamp_millis())
                .bind(p.expires_at.timestamp_millis())
                .bind(p.status.as_str())
                .bind(&p.decided_by)
                .bind(opt_ms(p.decided_at))
                .bind(&p.decision_note)
                .bind(p.revision)
                .bind(p.approver.as_str())
                .execute(&mut **tx)
                .await
                .map(|_| ())
            }


        #[async_trait::async_trait]
        impl ApprovalStore for $store {
                async fn create_proposal(
                    &self,
                    p: &Proposal,
                    audit: &[AuditEntry],
                    key: &[u8],
                ) -> StoreResult<Result<(), ProposalConflict>> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    // A pending proposal past its expiry no longer blocks a new one.
                    sqlx::query(
                        "UPDATE proposals SET status = 'expired', revision = revision + 1 WHERE kind = $1 AND target = $2 AND status = 'pending' \
                         AND expires_at <= $3",
                    )
                    .bind(p.kind.as_str())
                    .bind(&p.target)
                    .bind(p.created_at.timestamp_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(dberr)?;
                    match write_proposal(&mut tx, p).await {
                        Ok(()) => {}
                        Err(e) if unique_violation(&e) => return Ok(Err(ProposalConflict::AlreadyPending)),
                        Err(e) => return Err(dberr(e)),
                    }
                    append_audit(&mut tx, audit, key).await?;
                    tx.commit().await.map_err(dberr)?;
                    Ok(Ok(()))
                }

                async fn update_proposal(
                    &self,
                    p: &Proposal,
                    expected_revision: i64,
                    effects: &[Effect],
                    audit: &[AuditEntry],
                    key: &[u8],
                ) -> StoreResult<Result<(), ProposalConflict>> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    let n = sqlx::query(
                        "UPDATE proposals SET payload = $1, payload_hash = $2, makers = $3, status = $4, decided_by = $5, \
                         decided_at = $6, decision_note = $7, revision = $8 WHERE id = $9 AND revision = $10",
                    )
                    .bind(&p.payload)
                    .bind(&p.payload_hash)
                    .bind(serde_json::to_string(&p.makers).unwrap_or_else(|_| "[]".into()))
                    .bind(p.status.as_str())
                    .bind(&p.decided_by)
                    .bind(opt_ms(p.decided_at))
                    .bind(&p.decision_note)
                    .bind(p.revision)
                    .bind(&p.id)
                    .bind(expected_revision)
                    .execute(&mut *tx)
                    .await
                    .map_err(dberr)?
                    .rows_affected();
                    if n != 1 {
                        return Ok(Err(ProposalConflict::Changed));
                    }
                    for e in effects {
                        apply(&mut tx, e).await?;
                    }
                    append_audit(&mut tx, audit, key).await?;
                    tx.commit().await.map_err(dberr)?;
                    Ok(Ok(()))
                }

                async fn proposal(&self, id: &str) -> StoreResult<Option<Proposal>> {
                    let sql = format!("SELECT {PROPOSAL_COLS} FROM proposals WHERE id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.$r).await.map_err(dberr)?;
                    row.as_ref().map(proposal_from).transpose()
                }

                async fn pending_proposal(&self, kind: &str, target: &str) -> StoreResult<Option<Proposal>> {
                    let sql = format!("SELECT {PROPOSAL_COLS} FROM proposals WHERE kind = $1 AND target = $2 AND status = 'pending'");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(kind)
                        .bind(target)
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(dberr)?;
                    row.as_ref().map(proposal_from).transpose()
                }

                async fn proposals(&self, pending_only: bool, limit: i64) -> StoreResult<Vec<Proposal>> {
                    let sql = if pending_only {
                        format!("SELECT {PROPOSAL_COLS} FROM proposals WHERE status = 'pending' ORDER BY created_at DESC LIMIT $1")
                    } else {
                        format!("SELECT {PROPOSAL_COLS} FROM proposals ORDER BY created_at DESC LIMIT $1")
                    };
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&self.$r).await.map_err(dberr)?;
                    rows.iter().map(proposal_from).collect()
                }

                async fn proposals_for(&self, target: &str) -> StoreResult<Vec<Proposal>> {
                    let sql = format!("SELECT {PROPOSAL_COLS} FROM proposals WHERE target = $1 ORDER BY created_at, id LIMIT 200");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(target).fetch_all(&self.$r).await.map_err(dberr)?;
                    rows.iter().map(proposal_from).collect()
                }

                async fn expire_proposals(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                    let n = sqlx::query("UPDATE proposals SET status = 'expired', revision = revision + 1 WHERE status = 'pending' AND expires_at <= $1")
                        .bind(now.timestamp_millis())
                        .execute(&self.$w)
                        .await
                        .map_err(dberr)?;
                    Ok(n.rows_affected())
                }

        }
    };
}
