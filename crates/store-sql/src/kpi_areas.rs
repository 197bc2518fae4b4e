//! The areas' KPIs as stored: per-day counts over spans of one UTC offset, read from an area's
//! rows or from the quarter-hour buckets (`kpi_area_q`) the triggers keep, and the buckets'
//! recount. Each area's store names its KPIs and SQL (`*_kpi_days` in cases, disputes, qa).
// The macro is expanded inside `impl_sql_stores!`'s module, beside the shared helpers.
#[doc(hidden)]
#[macro_export]
macro_rules! kpi_areas_sql {
    ($db:ty) => {
        /// Recounts the area KPIs' quarter-hour buckets from the rows (the triggers of the
        /// `kpi_area_buckets` migration keep them between rebuilds).
        const AREA_REBUILD: &[&str] = &[
            "DELETE FROM kpi_area_q",
            "INSERT INTO kpi_area_q (code, q, num, den) SELECT code, q, SUM(num), SUM(den) FROM ( SELECT 'case_first_response_sla_rate' AS code, cases.created_at / 900000 AS q, 1 * CASE WHEN cases.first_response_at <= cases.first_response_due_at THEN 1 ELSE 0 END AS num, 1 AS den FROM cases WHERE cases.first_response_at IS NOT NULL UNION ALL SELECT 'case_resolution_sla_rate' AS code, cases.resolved_at / 900000 AS q, 1 * CASE WHEN cases.resolved_at <= cases.resolution_due_at THEN 1 ELSE 0 END AS num, 1 AS den FROM cases WHERE cases.resolved_at IS NOT NULL UNION ALL SELECT 'case_resolution_hours' AS code, cases.resolved_at / 900000 AS q, 1 * (cases.resolved_at - cases.created_at) AS num, 1 AS den FROM cases WHERE cases.resolved_at IS NOT NULL ) AS c GROUP BY code, q",
            "INSERT INTO kpi_area_q (code, q, num, den) SELECT code, q, SUM(num), SUM(den) FROM ( SELECT 'chargeback_ratio' AS code, disputes.opened_at / 900000 AS q, 1 AS num, 0 AS den FROM disputes WHERE disputes.stage <> 'inquiry' UNION ALL SELECT 'dispute_win_rate' AS code, disputes.closed_at / 900000 AS q, 1 * CASE WHEN disputes.status = 'won' THEN 1 ELSE 0 END AS num, 1 AS den FROM disputes WHERE disputes.closed_at IS NOT NULL AND disputes.status IN ('won', 'lost', 'accepted', 'expired') ) AS c GROUP BY code, q",
            "INSERT INTO kpi_area_q (code, q, num, den) SELECT code, q, SUM(num), SUM(den) FROM ( SELECT 'csat' AS code, handlings.closed_at / 900000 AS q, 1 * handlings.csat AS num, 1 AS den FROM handlings WHERE handlings.csat IS NOT NULL AND handlings.closed_at IS NOT NULL ) AS c GROUP BY code, q",
        ];

        /// Counts per local day over spans of one offset: `$sql` selects `day`, `num` and `den`
        /// with `$1` the offset, `$2` and `$3` the span's bounds; each row becomes `code`'s.
        async fn area_days(
            pool: &sqlx::Pool<$db>,
            spans: &riskdesk_store::kpis::Spans,
            parts: &[(&'static str, &'static str)],
            now_ms: i64,
        ) -> StoreResult<Vec<riskdesk_store::kpis::AreaDay>> {
            let mut out = Vec::new();
            for (code, sql) in parts {
                for (a, b, off) in spans {
                    let rows = sqlx::query(*sql).bind(*off).bind(*a).bind(*b).bind(now_ms).fetch_all(pool).await.map_err(dberr)?;
                    for r in rows {
                        let day: i64 = r.try_get("day").map_err(dberr)?;
                        let num: f64 = r.try_get("num").map_err(dberr)?;
                        let den: f64 = r.try_get("den").map_err(dberr)?;
                        out.push(riskdesk_store::kpis::AreaDay { code: (*code).to_owned(), day: day as i32, numerator: num, denominator: den });
                    }
                }
            }
            Ok(out)
        }

        /// Per local day over spans of one offset, from the quarter-hour buckets of `codes`
        /// (code, divisor of the stored numerator). Span bounds are local midnights, whole
        /// quarter-hours in every zone, so a day is a run of whole buckets.
        async fn bucket_days(
            pool: &sqlx::Pool<$db>,
            spans: &riskdesk_store::kpis::Spans,
            codes: &[(&'static str, f64)],
        ) -> StoreResult<Vec<riskdesk_store::kpis::AreaDay>> {
            const Q: i64 = 900_000;
            let mut out = Vec::new();
            for (a, b, off) in spans {
                let mut q = QueryBuilder::<$db>::new("SELECT code, (q * 900000 + ");
                q.push_bind(*off)
                    .push(") / 86400000 AS day, CAST(SUM(num) AS DOUBLE PRECISION) AS num, CAST(SUM(den) AS DOUBLE PRECISION) AS den \
                           FROM kpi_area_q WHERE q >= ")
                    .push_bind(a.div_euclid(Q) + i64::from(a.rem_euclid(Q) != 0))
                    .push(" AND q < ")
                    .push_bind(b.div_euclid(Q) + i64::from(b.rem_euclid(Q) != 0))
                    .push(" AND code IN (");
                let mut sep = q.separated(", ");
                for (code, _) in codes {
                    sep.push_bind(*code);
                }
                q.push(") GROUP BY code, 2");
                for r in q.build().fetch_all(pool).await.map_err(dberr)? {
                    let code: String = r.try_get("code").map_err(dberr)?;
                    let day: i64 = r.try_get("day").map_err(dberr)?;
                    let num: f64 = r.try_get("num").map_err(dberr)?;
                    let den: f64 = r.try_get("den").map_err(dberr)?;
                    let Some((code, scale)) = codes.iter().find(|(c, _)| *c == code) else { continue };
                    out.push(riskdesk_store::kpis::AreaDay { code: (*code).to_owned(), day: day as i32, numerator: num / scale, denominator: den });
                }
            }
            Ok(out)
        }
    };
}
