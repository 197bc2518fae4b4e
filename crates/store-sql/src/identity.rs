//! Users, sessions, sign-in failures and personal access tokens.
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers
// (`dberr`, `opt_ms`, `opt_time`, `unique_violation`, `Tx`) and the other areas' functions.
/// The identity area's SQL.
#[doc(hidden)]
#[macro_export]
macro_rules! identity_sql {
    ($store:ty, $db:ty, $w:ident, $r:ident) => {
        const USER_COLS: &str = "id, username, display_name, role, password_hash, created_at, disabled_at, time_zone";
            fn user_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<UserRecord> {
                let role: String = row.try_get("role").map_err(dberr)?;
                Ok(UserRecord {
                    id: row.try_get("id").map_err(dberr)?,
                    username: row.try_get("username").map_err(dberr)?,
                    display_name: row.try_get("display_name").map_err(dberr)?,
                    role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
                    password_hash: row.try_get("password_hash").map_err(dberr)?,
                    created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                    disabled_at: opt_time(row.try_get("disabled_at").map_err(dberr)?)?,
                    time_zone: row.try_get("time_zone").map_err(dberr)?,
                })
            }

            /// Ends a user's open sessions, at `at` or (without one) at each session's last use.
            async fn end_sessions(tx: &mut Tx<'_>, user_id: &str, at: Option<DateTime<Utc>>) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET ended_at = COALESCE($1, last_seen_at) WHERE user_id = $2 AND ended_at IS NULL")
                    .bind(opt_ms(at))
                    .bind(user_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                Ok(())
            }

        async fn apply_identity(tx: &mut Tx<'_>, change: &IdentityChange) -> StoreResult<()> {
            match change {
                    IdentityChange::CreateUser(u) => {
                        sqlx::query(
                            "INSERT INTO users (id, username, display_name, role, password_hash, created_at, disabled_at, time_zone) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(&u.id)
                        .bind(&u.username)
                        .bind(&u.display_name)
                        .bind(u.role.as_str())
                        .bind(&u.password_hash)
                        .bind(u.created_at.timestamp_millis())
                        .bind(opt_ms(u.disabled_at))
                        .bind(&u.time_zone)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    }
                    IdentityChange::SetTimeZone { user_id, time_zone } => {
                        sqlx::query("UPDATE users SET time_zone = $1 WHERE id = $2")
                            .bind(time_zone)
                            .bind(user_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    IdentityChange::SetRole { user_id, role } => {
                        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                            .bind(role.as_str())
                            .bind(user_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                    IdentityChange::SetPassword { user_id, password_hash } => {
                        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                            .bind(password_hash)
                            .bind(user_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                        // A new password ends every session signed in with the old one.
                        end_sessions(tx, user_id, None).await?;
                    }
                    IdentityChange::DisableUser { user_id, at } => {
                        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
                            .bind(at.timestamp_millis())
                            .bind(user_id)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                        end_sessions(tx, user_id, Some(*at)).await?;
                    }
                    IdentityChange::CreateSession(s) => {
                        sqlx::query(
                            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, ended_at) \
                             VALUES ($1, $2, $3, $4, $5, NULL)",
                        )
                        .bind(&s.token_hash)
                        .bind(&s.user_id)
                        .bind(&s.csrf)
                        .bind(s.created_at.timestamp_millis())
                        .bind(s.last_seen_at.timestamp_millis())
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                    }
                    IdentityChange::EndSession { token_hash, at } => {
                        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
                            .bind(at.timestamp_millis())
                            .bind(token_hash)
                            .execute(&mut **tx)
                            .await
                            .map_err(dberr)?;
                    }
                IdentityChange::CreateToken(t) => {
                    sqlx::query(
                        "INSERT INTO user_tokens (id, user_id, name, secret_hash, created_at, expires_at, revoked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
                    )
                    .bind(&t.id)
                    .bind(&t.user_id)
                    .bind(&t.name)
                    .bind(&t.secret_hash)
                    .bind(t.created_at.timestamp_millis())
                    .bind(opt_ms(t.expires_at))
                    .execute(&mut **tx)
                    .await
                    .map_err(dberr)?;
                }
                IdentityChange::RevokeToken { id, at } => {
                    sqlx::query("UPDATE user_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                        .bind(at.timestamp_millis())
                        .bind(id)
                        .execute(&mut **tx)
                        .await
                        .map_err(dberr)?;
                }
            }
            Ok(())
        }

        fn token_from(row: &<$db as sqlx::Database>::Row) -> StoreResult<TokenRecord> {
            Ok(TokenRecord {
                id: row.try_get("id").map_err(dberr)?,
                user_id: row.try_get("user_id").map_err(dberr)?,
                name: row.try_get("name").map_err(dberr)?,
                secret_hash: row.try_get("secret_hash").map_err(dberr)?,
                created_at: from_millis(row.try_get("created_at").map_err(dberr)?)?,
                expires_at: opt_time(row.try_get("expires_at").map_err(dberr)?)?,
                revoked_at: opt_time(row.try_get("revoked_at").map_err(dberr)?)?,
            })
        }

        const TOKEN_COLS: &str = "t.id, t.user_id, t.name, t.secret_hash, t.created_at, t.expires_at, t.revoked_at";

        #[async_trait::async_trait]
        impl riskdesk_store::identity::KeyStore for $store {
            async fn insert_api_key(&self, key: &riskdesk_store::ApiKeyRecord) -> StoreResult<()> {
                sqlx::query("INSERT INTO api_keys (id, name, scopes, secret_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(key.id.as_str())
                    .bind(&key.name)
                    .bind(key.scopes.join(","))
                    .bind(&key.secret_hash)
                    .bind(key.created_at.timestamp_millis())
                    .bind(opt_ms(key.revoked_at))
                    .execute(&self.$w)
                    .await
                    .map_err(dberr)?;
                Ok(())
            }

            async fn find_api_key(&self, secret_hash: &[u8]) -> StoreResult<Option<riskdesk_store::ApiKeyRecord>> {
                let row: Option<riskdesk_store::codec::ApiKeyRow> =
                    sqlx::query_as("SELECT id, name, scopes, secret_hash, created_at, revoked_at FROM api_keys WHERE secret_hash = $1")
                        .bind(secret_hash.to_vec())
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(dberr)?;
                row.map(riskdesk_store::codec::api_key_from_row).transpose()
            }

            async fn list_api_keys(&self) -> StoreResult<Vec<riskdesk_store::ApiKeyRecord>> {
                let rows: Vec<riskdesk_store::codec::ApiKeyRow> =
                    sqlx::query_as("SELECT id, name, scopes, secret_hash, created_at, revoked_at FROM api_keys ORDER BY id")
                        .fetch_all(&self.$r)
                        .await
                        .map_err(dberr)?;
                rows.into_iter().map(riskdesk_store::codec::api_key_from_row).collect()
            }

            async fn revoke_api_key(&self, id: &riskdesk_domain::ApiKeyId, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(at.timestamp_millis())
                    .bind(id.as_str())
                    .execute(&self.$w)
                    .await
                    .map_err(dberr)?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait::async_trait]
        impl IdentityStore for $store {
                async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
                    let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&self.$r).await.map_err(dberr)?;
                    row.as_ref().map(user_from).transpose()
                }

                async fn users(&self) -> StoreResult<Vec<UserRecord>> {
                    let sql = format!("SELECT {USER_COLS} FROM users ORDER BY username");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.$r).await.map_err(dberr)?;
                    rows.iter().map(user_from).collect()
                }

                async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
                    let sql = "SELECT s.token_hash, s.user_id, s.csrf, s.created_at AS s_created, s.last_seen_at, \
                         u.id, u.username, u.display_name, u.role, u.password_hash, u.created_at, u.disabled_at, u.time_zone \
                         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.ended_at IS NULL";
                    let Some(row) = sqlx::query(sql).bind(token_hash).fetch_optional(&self.$r).await.map_err(dberr)? else {
                        return Ok(None);
                    };
                    let s = SessionRecord {
                        token_hash: row.try_get("token_hash").map_err(dberr)?,
                        user_id: row.try_get("user_id").map_err(dberr)?,
                        csrf: row.try_get("csrf").map_err(dberr)?,
                        created_at: from_millis(row.try_get("s_created").map_err(dberr)?)?,
                        last_seen_at: from_millis(row.try_get("last_seen_at").map_err(dberr)?)?,
                        ended_at: None,
                    };
                    Ok(Some((s, user_from(&row)?)))
                }

                async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                        .bind(at.timestamp_millis())
                        .bind(token_hash)
                        .execute(&self.$w)
                        .await
                        .map_err(dberr)?;
                    Ok(())
                }

                async fn record_login_failure(&self, subjects: &[String], at: DateTime<Utc>) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(dberr)?;
                    // Old failures no longer count; dropping them keeps the table small.
                    sqlx::query("DELETE FROM login_failures WHERE at < $1")
                        .bind(at.timestamp_millis() - 86_400_000)
                        .execute(&mut *tx)
                        .await
                        .map_err(dberr)?;
                    for s in subjects {
                        sqlx::query("INSERT INTO login_failures (subject, at) VALUES ($1, $2)")
                            .bind(s)
                            .bind(at.timestamp_millis())
                            .execute(&mut *tx)
                            .await
                            .map_err(dberr)?;
                    }
                    tx.commit().await.map_err(dberr)
                }

                async fn login_failures_since(&self, subject: &str, since: DateTime<Utc>) -> StoreResult<i64> {
                    sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE subject = $1 AND at >= $2")
                        .bind(subject)
                        .bind(since.timestamp_millis())
                        .fetch_one(&self.$w)
                        .await
                        .map_err(dberr)
                }

                async fn token(&self, secret_hash: &[u8]) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
                    let sql = format!(
                        "SELECT {TOKEN_COLS}, u.id AS u_id, u.username, u.display_name, u.role, u.password_hash, \
                         u.created_at AS u_created_at, u.disabled_at, u.time_zone FROM user_tokens t JOIN users u ON u.id = t.user_id \
                         WHERE t.secret_hash = $1"
                    );
                    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(secret_hash)
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(dberr)?
                    else {
                        return Ok(None);
                    };
                    let role: String = row.try_get("role").map_err(dberr)?;
                    let user = UserRecord {
                        id: row.try_get("u_id").map_err(dberr)?,
                        username: row.try_get("username").map_err(dberr)?,
                        display_name: row.try_get("display_name").map_err(dberr)?,
                        role: riskdesk_domain::Role::parse(&role)
                            .ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
                        password_hash: row.try_get("password_hash").map_err(dberr)?,
                        created_at: from_millis(row.try_get("u_created_at").map_err(dberr)?)?,
                        disabled_at: opt_time(row.try_get("disabled_at").map_err(dberr)?)?,
                        time_zone: row.try_get("time_zone").map_err(dberr)?,
                    };
                    Ok(Some((token_from(&row)?, user)))
                }

                async fn token_by_id(&self, id: &str) -> StoreResult<Option<TokenRecord>> {
                    let sql = format!("SELECT {TOKEN_COLS} FROM user_tokens t WHERE t.id = $1");
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.$r).await.map_err(dberr)?;
                    row.as_ref().map(token_from).transpose()
                }

                async fn tokens_of(&self, user_id: &str) -> StoreResult<Vec<TokenRecord>> {
                    let sql = format!("SELECT {TOKEN_COLS} FROM user_tokens t WHERE t.user_id = $1 ORDER BY t.created_at DESC");
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&self.$r).await.map_err(dberr)?;
                    rows.iter().map(token_from).collect()
                }
        }
    };
}
