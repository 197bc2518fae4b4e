//! The analyst workspace: identity and sessions, capabilities per role, the audit trail, four
//! eyes, the review queue and personal data by need.
//!
//! Authorisation in types: a signed-in [`Analyst`] hands out a capability value only when its
//! role carries the permission, and every guarded operation takes that value, so a handler
//! that did not get one cannot call the operation.

pub mod audit;
pub mod identity;
pub mod pii;
pub mod proposals;
pub mod review;

use riskdesk_domain::workspace::{Permission, Role, SlaPolicy};
use riskdesk_store::workspace::UserRecord;

pub use audit::{Actor, REQUEST_ID};
pub use identity::{LoginError, SessionToken};

/// Settings of the workspace, from the `[workspace]` configuration section.
#[derive(Debug, Clone)]
pub struct WorkspaceConfig {
    pub sla: SlaPolicy,
    /// Cancelling an order worth this much or more (major units of its currency) needs four eyes.
    pub cancel_four_eyes_from: i64,
    pub proposal_ttl: chrono::Duration,
    pub session_idle: chrono::Duration,
    pub session_absolute: chrono::Duration,
    /// Failed sign-ins per username, and per client address, within `login_window`.
    pub login_max_per_user: i64,
    pub login_max_per_ip: i64,
    pub login_window: chrono::Duration,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        Self {
            sla: SlaPolicy::default(),
            cancel_four_eyes_from: 500,
            proposal_ttl: chrono::Duration::hours(72),
            session_idle: chrono::Duration::minutes(30),
            session_absolute: chrono::Duration::hours(12),
            login_max_per_user: 5,
            login_max_per_ip: 30,
            login_window: chrono::Duration::minutes(15),
        }
    }
}

/// A signed-in user, as validated from a session. Only [`crate::Service::session`] makes one.
#[derive(Debug, Clone)]
pub struct Analyst {
    user: UserRecord,
    csrf: String,
}

macro_rules! capability {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            actor: Actor,
        }
        impl $name {
            pub fn actor(&self) -> &Actor {
                &self.actor
            }
        }
    };
}

capability!(
    /// See the queue and orders, masked.
    OrderViewer
);
capability!(
    /// Claim, release, hold and cancel orders (cancel above the threshold by proposal).
    OrderDecider
);
capability!(
    /// Assign queue items to others.
    QueueAssigner
);
capability!(
    /// Approve, reject, or (administrators) bypass proposals; the four-eye policy decides per kind.
    Approver
);
capability!(
    /// See personal data in clear, for a purpose that is logged.
    Unmasker
);
capability!(
    /// Read and export the audit log.
    AuditReader
);
capability!(
    /// Create users and change roles.
    UserAdmin
);

impl Analyst {
    pub fn user(&self) -> &UserRecord {
        &self.user
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    pub fn may(&self, p: Permission) -> bool {
        self.user.role.allows(p)
    }

    pub fn actor(&self) -> Actor {
        Actor::user(&self.user.username, self.user.role)
    }

    fn grant<T>(&self, p: Permission, make: impl FnOnce(Actor) -> T) -> Option<T> {
        self.may(p).then(|| make(self.actor()))
    }

    pub fn orders(&self) -> Option<OrderViewer> {
        self.grant(Permission::ViewOrders, |actor| OrderViewer { actor })
    }

    pub fn decider(&self) -> Option<OrderDecider> {
        self.grant(Permission::DecideOrders, |actor| OrderDecider { actor })
    }

    pub fn assigner(&self) -> Option<QueueAssigner> {
        self.grant(Permission::AssignQueue, |actor| QueueAssigner { actor })
    }

    pub fn rules_viewer(&self) -> Option<crate::ReadAccess> {
        self.may(Permission::ViewRules).then(crate::auth::local::read)
    }

    pub fn rules_admin(&self) -> Option<crate::RulesAdmin> {
        self.may(Permission::EditRules).then(|| crate::RulesAdmin { actor: self.actor().id, local: false })
    }

    pub fn approver(&self) -> Option<Approver> {
        let any = [Permission::ApproveOrderActions, Permission::ApproveRules, Permission::EmergencyBypass]
            .into_iter()
            .any(|p| self.may(p));
        any.then(|| Approver { actor: self.actor() })
    }

    pub fn unmasker(&self) -> Option<Unmasker> {
        self.grant(Permission::Unmask, |actor| Unmasker { actor })
    }

    pub fn audit_reader(&self) -> Option<AuditReader> {
        self.grant(Permission::ViewAudit, |actor| AuditReader { actor })
    }

    pub fn user_admin(&self) -> Option<UserAdmin> {
        self.grant(Permission::ManageUsers, |actor| UserAdmin { actor })
    }
}

/// Capabilities for the trusted local operator (the CLI runs with the database's own rights).
pub mod local {
    use super::*;

    pub fn user_admin() -> UserAdmin {
        UserAdmin { actor: Actor::cli() }
    }

    pub fn audit_reader() -> AuditReader {
        AuditReader { actor: Actor::cli() }
    }
}
