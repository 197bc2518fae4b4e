//! The analyst workspace: who may do what (roles and permissions), how personal data is masked,
//! the four-eye policy, the audit chain and the review vocabulary. Plain functions over plain
//! data, so the policies are tested here and every edge (web UI, API, CLI) applies the same ones.

pub mod audit;
pub mod four_eyes;
pub mod masking;
pub mod review;
pub mod role;

pub use audit::{AuditEntry, AuditRecord, ChainProblem, chain_hash, verify_chain};
pub use four_eyes::{Proposal, ProposalKind, ProposalStatus, Refusal};
pub use masking::{mask_email, mask_iban, mask_ip, mask_name, mask_phone, mask_text};
pub use review::{ReviewAction, ReviewReason, SlaPolicy};
pub use role::{Permission, Role};
