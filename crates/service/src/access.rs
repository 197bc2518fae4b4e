//! One capability system for machines and people. Whoever calls is a [`Caller`]: a machine key
//! with its scopes, or a person (signed in, or by a personal access token acting as them with
//! their role). A guarded operation takes a capability value, and the only way to get one is
//! [`Caller::grant`], which asks the capability's own rule; every capability carries the actor
//! it was granted to, so what it does is recorded under that actor.

use crate::audit::Actor;
use riskdesk_domain::{Permission, Role};
use riskdesk_store::ApiKeyRecord;
use riskdesk_store::identity::UserRecord;

/// A right that a machine key can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Send orders and events.
    Intake,
    /// Read orders and customers.
    Read,
    /// Write, test and publish rule sets; manage block and allow lists.
    Rules,
    /// Open cases (a helpdesk escalating from Tier 2), read and annotate them.
    Cases,
    /// Read disputes and scheme ratios; import provider dispute reports and settled volumes.
    Disputes,
    /// Send Tier-2 handlings (a helpdesk or a provider's system); QA results are read by people.
    Qa,
    /// Read KPIs and export them (finance, marketplaces' reporting scripts).
    Kpis,
    /// Enter data-subject requests and follow them (a shop's privacy portal, a helpdesk).
    Privacy,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::Intake,
        Scope::Read,
        Scope::Rules,
        Scope::Cases,
        Scope::Disputes,
        Scope::Qa,
        Scope::Kpis,
        Scope::Privacy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::Read => "read",
            Self::Rules => "rules",
            Self::Cases => "cases",
            Self::Disputes => "disputes",
            Self::Qa => "qa",
            Self::Kpis => "kpis",
            Self::Privacy => "privacy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A machine key and its scopes.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: String,
    scopes: Vec<Scope>,
}

impl Principal {
    pub(crate) fn from_record(r: &ApiKeyRecord) -> Self {
        Self { key_id: r.id.to_string(), scopes: r.scopes.iter().filter_map(|s| Scope::parse(s)).collect() }
    }

    pub fn has(&self, s: Scope) -> bool {
        self.scopes.contains(&s)
    }

    pub fn actor(&self) -> Actor {
        Actor::other(&format!("apikey:{}", self.key_id))
    }
}

/// How a person reached riskdesk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session, with its CSRF token.
    Session { csrf: String },
    /// A personal access token (its id).
    Token { id: String },
}

/// A person, as validated from a session or a personal access token.
#[derive(Debug, Clone)]
pub struct Analyst {
    pub(crate) user: UserRecord,
    pub(crate) via: Via,
    /// The zone the person reads times in: their own choice, else the installation's.
    pub(crate) zone: chrono_tz::Tz,
}

impl Analyst {
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.zone
    }

    pub fn user(&self) -> &UserRecord {
        &self.user
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn via(&self) -> &Via {
        &self.via
    }

    /// The session's CSRF token; empty for a token caller (no cookie, so no forgery to stop).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf } => csrf,
            Via::Token { .. } => "",
        }
    }

    pub fn may(&self, p: Permission) -> bool {
        self.user.role.allows(p)
    }

    pub fn actor(&self) -> Actor {
        Actor::user(&self.user.username, self.user.role)
    }

    /// The capability `C`, if this person's role carries it.
    pub fn grant<C: Capability>(&self) -> Option<C> {
        C::grant(&Caller::Person(self.clone()))
    }

    pub fn orders(&self) -> Option<OrderViewer> {
        self.grant()
    }
    pub fn decider(&self) -> Option<OrderDecider> {
        self.grant()
    }
    pub fn assigner(&self) -> Option<QueueAssigner> {
        self.grant()
    }
    pub fn rules_viewer(&self) -> Option<RulesViewer> {
        self.grant()
    }
    pub fn rules_admin(&self) -> Option<RulesAdmin> {
        self.grant()
    }
    pub fn approver(&self) -> Option<Approver> {
        self.grant()
    }
    pub fn unmasker(&self) -> Option<Unmasker> {
        self.grant()
    }
    pub fn audit_reader(&self) -> Option<AuditReader> {
        self.grant()
    }
    pub fn user_admin(&self) -> Option<UserAdmin> {
        self.grant()
    }
}

/// Whoever calls.
#[derive(Debug, Clone)]
pub enum Caller {
    Key(Principal),
    Person(Analyst),
}

impl Caller {
    pub fn grant<C: Capability>(&self) -> Option<C> {
        C::grant(self)
    }

    pub fn actor(&self) -> Actor {
        match self {
            Self::Key(p) => p.actor(),
            Self::Person(a) => a.actor(),
        }
    }

    pub fn intake(&self) -> Option<Intake> {
        self.grant()
    }

    pub fn read(&self) -> Option<ReadAccess> {
        self.grant()
    }

    pub fn person(&self) -> Option<&Analyst> {
        match self {
            Self::Person(a) => Some(a),
            Self::Key(_) => None,
        }
    }
}

/// A right, granted by its own rule to a caller.
pub trait Capability: Sized {
    /// What the right is called when it is refused ("decide orders").
    const NAME: &'static str;
    fn grant(caller: &Caller) -> Option<Self>;
    fn actor(&self) -> &Actor;
}

/// Defines a capability: the scope a machine key needs for it (if machines may hold it) and the
/// permissions of which a person's role needs one.
macro_rules! capability {
    ($(#[$doc:meta])* $name:ident, $label:literal, key: [$($scope:ident),*], person: [$($perm:ident),*]) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            actor: Actor,
        }

        impl Capability for $name {
            const NAME: &'static str = $label;

            #[allow(unreachable_patterns, unused_variables)]
            fn grant(caller: &Caller) -> Option<Self> {
                let ok = match caller {
                    Caller::Key(p) => false $(|| p.has(Scope::$scope))*,
                    Caller::Person(a) => false $(|| a.may(Permission::$perm))*,
                };
                ok.then(|| Self { actor: caller.actor() })
            }

            fn actor(&self) -> &Actor {
                &self.actor
            }
        }

        impl $name {
            pub fn actor(&self) -> &Actor {
                &self.actor
            }

            /// For the trusted local operator (the CLI runs with the database's own rights).
            pub fn local(actor: Actor) -> Self {
                Self { actor }
            }
        }
    };
}

capability!(
    /// Send orders and events.
    Intake, "send orders and events", key: [Intake], person: []
);
capability!(
    /// Read stored orders and customers as they were received (personal data in clear, every
    /// read audited); machine keys only: people read orders masked through the review area.
    ReadAccess, "read orders and customers", key: [Read], person: []
);
capability!(
    /// Read rule sets, lists, shadow results and backtests.
    RulesViewer, "view rules", key: [Read, Rules], person: [ViewRules]
);
capability!(
    /// Write, test and publish rule sets; manage block and allow lists.
    RulesAdmin, "edit rules and lists", key: [Rules], person: [EditRules]
);
capability!(
    /// See the queue and orders, masked.
    OrderViewer, "view orders", key: [], person: [ViewOrders]
);
capability!(
    /// Claim, release, hold and cancel orders (cancel above the threshold by proposal).
    OrderDecider, "decide orders", key: [], person: [DecideOrders]
);
capability!(
    /// Assign queue items to others.
    QueueAssigner, "assign queue items", key: [], person: [AssignQueue]
);
capability!(
    /// Approve, reject, or (administrators) bypass proposals; each kind names the permission
    /// its approver needs.
    Approver, "approve proposals", key: [], person: [ApproveOrderActions, ApproveRules, ApproveCaseDecisions, ApproveDisputes, ApprovePrivacy, EmergencyBypass]
);
capability!(
    /// See personal data in clear, for a purpose that is logged.
    Unmasker, "unmask personal data", key: [], person: [Unmask]
);
capability!(
    /// Read and export the audit log.
    AuditReader, "read the audit log", key: [], person: [ViewAudit]
);
capability!(
    /// Escalate a case, report suspicious activity, follow one's own reports.
    CaseOpener, "open cases", key: [Cases], person: [OpenCases]
);
capability!(
    /// Read cases and what they link to.
    CaseViewer, "view cases", key: [Cases], person: [ViewCases]
);
capability!(
    /// Work cases: notes, links, tasks, moves, taking one. Machine keys (a helpdesk) may too,
    /// recorded under the key; only people propose decisions.
    CaseWorker, "work cases", key: [Cases], person: [WorkCases]
);
capability!(
    /// Write SOPs, playbooks and FAQ pages.
    KnowledgeEditor, "edit knowledge pages", key: [], person: [EditKnowledge]
);
capability!(
    /// Read disputes, refund claims, return-abuse signals and scheme ratios.
    DisputeViewer, "view disputes", key: [Disputes], person: [ViewDisputes]
);
capability!(
    /// Work disputes: evidence, submitting, accepting, the evidence pack (personal data in
    /// clear). People only.
    DisputeWorker, "work disputes", key: [], person: [WorkDisputes]
);
capability!(
    /// Import providers' dispute reports and settled volumes (machine keys with the
    /// `disputes` scope, or people who work disputes).
    DisputeImporter, "import dispute reports", key: [Disputes], person: [WorkDisputes]
);
capability!(
    /// Send Tier-2 handlings for quality assurance.
    HandlingIntake, "send handlings", key: [Qa], person: []
);
capability!(
    /// Read QA reviews, trends, calibration results.
    QaViewer, "view QA", key: [], person: [ViewQa]
);
capability!(
    /// Review sampled handlings; decide disputed reviews.
    QaReviewer, "review handlings", key: [], person: [ReviewQa]
);
capability!(
    /// Write scorecards; run calibration sessions.
    QaManager, "manage QA", key: [], person: [ManageQa]
);
capability!(
    /// Acknowledge or dispute feedback on one's own provider's handlings.
    FeedbackResponder, "answer QA feedback", key: [], person: [RespondQaFeedback]
);
capability!(
    /// Create users and change roles.
    UserAdmin, "manage users", key: [], person: [ManageUsers]
);

/// Any person, whatever their role: for what everyone may do to their own things (sign out,
/// withdraw their own proposal, manage their own tokens).
#[derive(Debug, Clone)]
pub struct Someone {
    actor: Actor,
}

impl Capability for Someone {
    const NAME: &'static str = "act as a person";

    fn grant(caller: &Caller) -> Option<Self> {
        caller.person().map(|a| Self { actor: a.actor() })
    }

    fn actor(&self) -> &Actor {
        &self.actor
    }
}

impl Someone {
    /// A named person, for the trusted local operator (the demo acting as its people).
    pub fn local(actor: Actor) -> Self {
        Self { actor }
    }
}

impl RulesAdmin {
    /// The local operator (CLI), who holds the database's own rights.
    pub(crate) fn is_local(&self) -> bool {
        self.actor.role.is_none() && !self.actor.id.starts_with("apikey:")
    }
}

/// Capabilities for trusted local operators (the CLI runs with the database's own rights).
pub mod local {
    use super::*;

    pub fn intake() -> Intake {
        Intake::local(Actor::cli())
    }
    pub fn read() -> ReadAccess {
        ReadAccess::local(Actor::cli())
    }
    pub fn rules_viewer() -> RulesViewer {
        RulesViewer::local(Actor::cli())
    }
    /// `actor` is recorded with every change (the operating-system user for the CLI).
    pub fn rules(actor: &str) -> RulesAdmin {
        RulesAdmin::local(Actor::other(actor))
    }
    pub fn user_admin() -> UserAdmin {
        UserAdmin::local(Actor::cli())
    }
    pub fn audit_reader() -> AuditReader {
        AuditReader::local(Actor::cli())
    }
}

/// How long a looked-up secret is trusted before the database is asked again; bounds how long
/// a revoked key or token keeps working on an instance.
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Secret hash → the caller it resolved to (or `None`: unknown), when it was looked up, and
/// when it expires (a token's expiry, by the service's clock).
type CacheMap =
    std::collections::HashMap<Vec<u8>, (Option<Caller>, std::time::Instant, Option<chrono::DateTime<chrono::Utc>>)>;

#[derive(Default)]
pub(crate) struct KeyCache {
    entries: std::sync::RwLock<CacheMap>,
}

impl KeyCache {
    pub(crate) fn clear(&self) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Keys and tokens are 256-bit random secrets, so a plain SHA-256 is the right hash: a slow
/// password hash would only cost latency on every request without adding security.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).to_vec()
}

impl crate::Service {
    /// Resolves a bearer secret: a machine key (`rdk_…`) or a personal access token (`rdp_…`);
    /// `None` for unknown, revoked or expired ones and for tokens of disabled accounts.
    pub async fn authenticate(&self, secret: &str) -> crate::ServiceResult<Option<Caller>> {
        let hash = secret_hash(secret);
        if let Some((c, at, until)) = self.api_keys.entries.read().unwrap_or_else(|e| e.into_inner()).get(&hash)
            && at.elapsed() < CACHE_TTL
            && until.is_none_or(|u| self.now() < u)
        {
            return Ok(c.clone());
        }
        let (caller, until) = if secret.starts_with(crate::identity::TOKEN_PREFIX) {
            self.token_caller(&hash).await?
        } else {
            let record = self.store.find_api_key(&hash).await?;
            (record.filter(|r| r.revoked_at.is_none()).map(|r| Caller::Key(Principal::from_record(&r))), None)
        };
        let mut map = self.api_keys.entries.write().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.clear(); // bounded: guessing attackers must not grow memory
        }
        map.insert(hash, (caller.clone(), std::time::Instant::now(), until));
        Ok(caller)
    }
}

capability!(
    /// Read KPIs, trends, rule effectiveness, alerts and reports.
    KpiViewer, "read KPIs", key: [Kpis], person: [ViewKpis]
);
capability!(
    /// Act on trend alerts and send reports now.
    KpiManager, "act on KPI alerts", key: [], person: [ManageKpis]
);
capability!(
    /// Enter data-subject requests and read them with their clock, and the access package.
    PrivacyIntake, "enter privacy requests", key: [Privacy], person: [WorkPrivacy]
);
capability!(
    /// Read requests, breaches, records of processing and sweep runs.
    PrivacyViewer, "view privacy operations", key: [Privacy], person: [ViewPrivacy]
);
capability!(
    /// Work requests and breaches; propose releases and erasures. People only.
    PrivacyWorker, "work privacy requests", key: [], person: [WorkPrivacy]
);
