//! The audit chain. Each record's hash is an HMAC (key kept outside the database, like the
//! entity key) over its sequence number, the previous record's hash and its fields, so that
//! editing, inserting or deleting a row breaks the chain, and someone who can write to the
//! database but lacks the key cannot rebuild it. The store keeps a head (last seq and hash),
//! so that deleting the newest rows is detected too.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// What happened, before it is sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// `user:<username>`, `apikey:<id>` or `cli`.
    pub actor: String,
    /// What was done, e.g. `order.cancel`, `personal_data.unmask`, `proposal.approve`.
    pub action: String,
    /// What it was done to, e.g. `order:ord_1`, `customer:c_9`, `ruleset:4`.
    pub subject: String,
    /// Why, for reads of personal data and emergency bypasses.
    pub purpose: Option<String>,
    pub request_id: Option<String>,
    /// Further facts as JSON text (never personal data in clear).
    pub detail: String,
    /// Set for actions that skipped a control (the emergency bypass): what audits look for.
    pub flagged: bool,
}

/// A sealed record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
    #[serde(skip)]
    pub prev_hash: Vec<u8>,
    #[serde(skip)]
    pub hash: Vec<u8>,
}

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// The hash of record `seq` following `prev`. Fields are length-prefixed so that no two
/// different records encode to the same bytes.
pub fn chain_hash(key: &[u8], seq: i64, prev: &[u8], e: &AuditEntry) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&seq.to_be_bytes());
    mac.update(prev);
    mac.update(&e.at.timestamp_millis().to_be_bytes());
    for field in [
        e.actor.as_str(),
        e.action.as_str(),
        e.subject.as_str(),
        e.purpose.as_deref().unwrap_or("\u{0}"),
        e.request_id.as_deref().unwrap_or("\u{0}"),
        e.detail.as_str(),
    ] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    mac.update(&[u8::from(e.flagged)]);
    mac.finalize().into_bytes().into()
}

/// One break in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainProblem {
    /// Records are missing between two sequence numbers (deleted rows).
    Gap { after: i64, next: i64 },
    /// The record does not point to the hash of the one before it (a row deleted or inserted).
    BrokenLink { seq: i64 },
    /// The record's fields do not give its hash (edited, or inserted without the key).
    BadHash { seq: i64 },
    /// The head names no record of the chain (the newest rows were deleted, or the head moved).
    Head { head_seq: i64, last_seq: i64 },
}

/// Checks records in sequence order against the key and the stored head `(seq, hash)`.
pub fn verify_chain(key: &[u8], records: &[AuditRecord], head: Option<(i64, &[u8])>) -> Vec<ChainProblem> {
    let mut v = ChainVerifier::new(key, head);
    for r in records {
        v.push(r);
    }
    v.finish()
}

/// Verifies a chain fed one record at a time in sequence order, so a long log is checked page
/// by page in constant memory. The head, read before the records, must name a record of the
/// chain with its hash; records after it (appended while verifying) must verify like the rest.
pub struct ChainVerifier<'k> {
    key: &'k [u8],
    head_seq: i64,
    head_hash: Vec<u8>,
    head_found: bool,
    prev_seq: i64,
    prev_hash: Vec<u8>,
    problems: Vec<ChainProblem>,
    records: i64,
}

impl<'k> ChainVerifier<'k> {
    pub fn new(key: &'k [u8], head: Option<(i64, &[u8])>) -> Self {
        let (head_seq, head_hash) = head.unwrap_or((0, &GENESIS));
        Self {
            key,
            head_seq,
            head_hash: head_hash.to_vec(),
            head_found: head_seq == 0 && head_hash == GENESIS,
            prev_seq: 0,
            prev_hash: GENESIS.to_vec(),
            problems: Vec::new(),
            records: 0,
        }
    }

    pub fn push(&mut self, r: &AuditRecord) {
        if r.seq != self.prev_seq + 1 {
            self.problems.push(ChainProblem::Gap { after: self.prev_seq, next: r.seq });
        }
        if r.prev_hash != self.prev_hash {
            self.problems.push(ChainProblem::BrokenLink { seq: r.seq });
        }
        if chain_hash(self.key, r.seq, &r.prev_hash, &r.entry).as_slice() != r.hash.as_slice() {
            self.problems.push(ChainProblem::BadHash { seq: r.seq });
        }
        if r.seq == self.head_seq && r.hash == self.head_hash {
            self.head_found = true;
        }
        self.prev_seq = r.seq;
        self.prev_hash.clone_from(&r.hash);
        self.records += 1;
    }

    /// Records seen so far.
    pub fn records(&self) -> i64 {
        self.records
    }

    /// The problems found; a head that names no record of the chain is one (the newest rows
    /// were deleted, or the head was moved).
    pub fn finish(mut self) -> Vec<ChainProblem> {
        if !self.head_found {
            self.problems.push(ChainProblem::Head { head_seq: self.head_seq, last_seq: self.prev_seq });
        }
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: i64) -> AuditEntry {
        AuditEntry {
            at: DateTime::from_timestamp_millis(1_700_000_000_000 + i).unwrap(),
            actor: "user:ana".into(),
            action: "order.release".into(),
            subject: format!("order:o{i}"),
            purpose: None,
            request_id: Some(format!("req{i}")),
            detail: "{}".into(),
            flagged: false,
        }
    }

    fn chain(key: &[u8], n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let e = entry(seq);
                let hash = chain_hash(key, seq, &prev, &e).to_vec();
                let r = AuditRecord { seq, entry: e, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                r
            })
            .collect()
    }

    fn head(rs: &[AuditRecord]) -> Option<(i64, &[u8])> {
        rs.last().map(|r| (r.seq, r.hash.as_slice()))
    }

    #[test]
    fn intact_chain_verifies() {
        let rs = chain(b"k", 5);
        assert!(verify_chain(b"k", &rs, head(&rs)).is_empty());
        assert!(verify_chain(b"k", &[], None).is_empty());
    }

    #[test]
    fn edit_delete_insert_and_truncation_are_found() {
        let rs = chain(b"k", 5);
        let h = (5, rs[4].hash.clone());
        let mut edited = rs.clone();
        edited[2].entry.subject = "order:other".into();
        assert_eq!(verify_chain(b"k", &edited, Some((h.0, &h.1))), vec![ChainProblem::BadHash { seq: 3 }]);

        let mut deleted = rs.clone();
        deleted.remove(1);
        let p = verify_chain(b"k", &deleted, Some((h.0, &h.1)));
        assert!(
            p.contains(&ChainProblem::Gap { after: 1, next: 3 }) && p.contains(&ChainProblem::BrokenLink { seq: 3 })
        );

        // An insert by someone without the key: renumbering cannot forge the hashes.
        let mut inserted = chain(b"k", 5);
        let forged = AuditRecord { seq: 3, entry: entry(99), prev_hash: inserted[1].hash.clone(), hash: vec![0; 32] };
        inserted.insert(2, forged);
        for (i, r) in inserted.iter_mut().enumerate() {
            r.seq = i as i64 + 1;
        }
        assert!(!verify_chain(b"k", &inserted, Some((h.0, &h.1))).is_empty());

        let truncated = &rs[..4];
        assert_eq!(
            verify_chain(b"k", truncated, Some((h.0, &h.1))),
            vec![ChainProblem::Head { head_seq: 5, last_seq: 4 }]
        );
        assert!(!verify_chain(b"other key", &rs, Some((h.0, &h.1))).is_empty());
    }
}
