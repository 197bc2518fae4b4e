//! The four-eye kind "publish a rule set": a saved, valid version goes live when a second
//! person approves it, having seen its difference to the live set.

use crate::approvals::{Execution, ProposalKind, payload, to_payload};
use crate::audit::entry;
use crate::{Actor, RulesAdmin, Service, ServiceError, ServiceResult};
use riskdesk_domain::{Permission, Proposal};
use riskdesk_store::ControlChange;
use riskdesk_store::changes::{Effect, ScreeningChange};
use serde::{Deserialize, Serialize};

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |v| format!("{:.1} %", v * 100.0))
}

/// The backtest as lines an approver reads: over what, what each set flags, what changes.
pub(crate) fn backtest_summary(b: &super::Backtest) -> Vec<(String, String)> {
    let c = &b.candidate;
    let mut out = vec![
        (
            "Backtest".into(),
            format!("{} orders replayed, {} of them fraud (confirmed or charged back)", b.orders, b.fraud_orders),
        ),
        (
            "This version flags".into(),
            format!(
                "{} orders ({} review, {} decline): precision {}, recall {}",
                c.flagged,
                c.verdicts.review,
                c.verdicts.decline,
                pct(c.precision),
                pct(c.recall)
            ),
        ),
    ];
    if let Some(l) = &b.live {
        out.push((
            "The live version flags".into(),
            format!("{} orders: precision {}, recall {}", l.flagged, pct(l.precision), pct(l.recall)),
        ));
    }
    if let Some(d) = &b.difference {
        out.push((
            "Change".into(),
            format!(
                "{} newly flagged ({} fraud), {} no longer flagged ({} fraud), {} verdicts changed",
                d.newly_flagged,
                d.newly_flagged_fraud,
                d.no_longer_flagged,
                d.no_longer_flagged_fraud,
                d.verdict_changed
            ),
        ));
    }
    out
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublishPayload {
    pub version: i64,
}

pub struct PublishRuleSet;

#[async_trait::async_trait]
impl ProposalKind for PublishRuleSet {
    fn code(&self) -> &'static str {
        "publish_ruleset"
    }

    fn label(&self) -> &'static str {
        "Publish rule set"
    }

    fn approver(&self) -> Permission {
        Permission::ApproveRules
    }

    fn link(&self, target: &str) -> String {
        format!("/rules/{target}")
    }

    async fn describe(&self, svc: &Service, p: &Proposal) -> Vec<(String, String)> {
        let Ok(x) = payload::<PublishPayload>(p) else { return Vec::new() };
        let mut out = vec![("Version".into(), x.version.to_string())];
        if let Ok(Some(r)) = svc.store().ruleset(x.version).await {
            out.push(("Saved by".into(), format!("{} — {}", r.author, r.note)));
        }
        if let Ok(c) = svc.store().screening_control().await {
            out.push(("Live now".into(), c.live_version.map_or_else(|| "none".into(), |v| v.to_string())));
            if let (Some(live), Ok(Some(new))) = (c.live_version, svc.store().ruleset(x.version).await)
                && let Ok(Some(old)) = svc.store().ruleset(live).await
            {
                out.extend(rules_diff(&old.source, &new.source));
            }
        }
        // What the approver weighs besides the text: the set replayed over the stored history
        // beside the live one (the backtest index makes this quick after its first build).
        let viewer = crate::RulesViewer::local(Actor::other("system:approvals"));
        match svc.backtest(&viewer, super::Candidate::Version(x.version)).await {
            Ok(b) => out.extend(backtest_summary(&b)),
            Err(e) => out.push(("Backtest".into(), format!("could not run: {e}"))),
        }
        out
    }

    async fn execute(&self, svc: &Service, p: &Proposal, maker: &Actor) -> ServiceResult<Execution> {
        let x: PublishPayload = payload(p)?;
        svc.publishable(x.version).await?;
        let now = svc.now();
        let audit = entry(
            &maker.id,
            "ruleset.publish",
            format!("ruleset:{}", x.version),
            serde_json::json!({"proposal": p.id}),
            now,
        );
        Ok(Execution {
            effects: vec![Effect::Screening(ScreeningChange::Control {
                change: ControlChange::Publish(x.version),
                actor: maker.id.clone(),
                at: now,
            })],
            audit,
            then: Some(Box::new(|svc: Service| {
                Box::pin(async move {
                    if let Err(e) = svc.screener().refresh().await {
                        tracing::warn!(error = %e, "refreshing the screener after publishing failed");
                    }
                })
            })),
        })
    }
}

impl Service {
    /// Proposes publishing a saved rule-set version.
    pub async fn propose_publish(&self, cap: &RulesAdmin, version: i64) -> ServiceResult<String> {
        self.publishable(version).await?;
        self.propose(cap.actor(), &PublishRuleSet, version.to_string(), to_payload(&PublishPayload { version })?).await
    }

    pub(crate) async fn publishable(&self, version: i64) -> ServiceResult<()> {
        let rec = self.store().ruleset(version).await?.ok_or(ServiceError::NotFound("rule set version"))?;
        super::validate(&rec.source)?;
        if self.store().screening_control().await?.live_version == Some(version) {
            return Err(ServiceError::Conflict(format!("version {version} is already live")));
        }
        Ok(())
    }
}

/// What a rule set changes against another, as an approver reads it: rules added, removed and
/// changed (with the fields that changed), and the scoring thresholds.
pub fn rules_diff(old: &str, new: &str) -> Vec<(String, String)> {
    use riskdesk_rules::ruleset::RuleSet;
    let (Ok(a), Ok(b)) = (RuleSet::from_toml(old), RuleSet::from_toml(new)) else {
        return vec![("Changes".into(), "cannot be compared (a version does not compile)".into())];
    };
    let ids = |r: &RuleSet| r.rules.iter().map(|x| x.doc.id.clone()).collect::<Vec<_>>();
    let (old_ids, new_ids) = (ids(&a), ids(&b));
    let added: Vec<&String> = new_ids.iter().filter(|i| !old_ids.contains(i)).collect();
    let removed: Vec<&String> = old_ids.iter().filter(|i| !new_ids.contains(i)).collect();
    let mut changed = Vec::new();
    for r in &b.rules {
        let Some(o) = a.rules.iter().find(|x| x.doc.id == r.doc.id) else { continue };
        let (x, y) = (&o.doc, &r.doc);
        let mut fields = Vec::new();
        if x.expression != y.expression {
            fields.push(format!("expression “{}” → “{}”", x.expression, y.expression));
        }
        if x.action != y.action {
            fields.push(format!("action {:?} → {:?}", x.action, y.action).to_lowercase());
        }
        if x.points != y.points {
            fields.push(format!("points {} → {}", x.points, y.points));
        }
        if x.enabled != y.enabled {
            fields.push(if y.enabled { "enabled".into() } else { "disabled".into() });
        }
        if x.name != y.name || x.description != y.description || x.tags != y.tags {
            fields.push("name, description or tags".into());
        }
        if !fields.is_empty() {
            changed.push(format!("{}: {}", y.id, fields.join("; ")));
        }
    }
    let list = |v: Vec<&String>| {
        if v.is_empty() { "none".to_owned() } else { v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ") }
    };
    let mut out = vec![
        ("Rules added".to_owned(), list(added)),
        ("Rules removed".to_owned(), list(removed)),
        ("Rules changed".to_owned(), if changed.is_empty() { "none".into() } else { changed.join("\n") }),
    ];
    if a.scoring != b.scoring {
        out.push((
            "Scoring".into(),
            format!(
                "review at {} → {}, decline at {} → {}",
                a.scoring.review_at, b.scoring.review_at, a.scoring.decline_at, b.scoring.decline_at
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rules_diff;

    const OLD: &str = "[scoring]\nreview_at = 40\ndecline_at = 80\n\n[[rule]]\nid = \"a\"\nname = \"A\"\nexpression = 'order.amount >= 100.0'\naction = \"review\"\n\n[[rule]]\nid = \"b\"\nname = \"B\"\nexpression = 'order.amount >= 5000.0'\naction = \"decline\"\n";

    #[test]
    fn the_approver_reads_what_changed() {
        let new = OLD.replace("review_at = 40", "review_at = 50").replace("100.0", "150.0").replace(
            "[[rule]]\nid = \"b\"\nname = \"B\"\nexpression = 'order.amount >= 5000.0'\naction = \"decline\"\n",
            "[[rule]]\nid = \"c\"\nname = \"C\"\nexpression = 'order.amount >= 9000.0'\naction = \"score\"\npoints = 10\n",
        );
        let d = rules_diff(OLD, &new);
        let get = |k: &str| d.iter().find(|(l, _)| l == k).map(|(_, v)| v.clone()).unwrap_or_default();
        assert_eq!(get("Rules added"), "c");
        assert_eq!(get("Rules removed"), "b");
        assert!(
            get("Rules changed").contains("a: expression “order.amount >= 100.0” → “order.amount >= 150.0”"),
            "{d:?}"
        );
        assert_eq!(get("Scoring"), "review at 40 → 50, decline at 80 → 80");
        assert_eq!(rules_diff(OLD, OLD)[2].1, "none");
    }
}
