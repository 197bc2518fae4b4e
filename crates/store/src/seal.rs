//! Personal fields sealed at rest: AES-256-GCM under keys kept outside the database.
//!
//! Why a process-wide ring and not a key per store: sealing happens where values are prepared,
//! which is not always the store (order bodies are packed on the intake threads before a backend
//! sees them, and each area applies its changes in free functions inside one transaction); one
//! process serves one deployment with one key file, as it has one body dictionary.
//!
//! Formats. Text columns: `enc1:<key id, 8 hex>:<base64url(nonce ‖ ciphertext ‖ tag)>`; a plain
//! value that happens to start with `enc0:` or `enc1:` is stored as `enc0:<value>`, so nothing a
//! person types can pass for a sealed value. Byte columns (order and event bodies): the tag byte
//! [`SEALED_V1`], the 4-byte key id, the 12-byte nonce, then ciphertext and tag; the plaintext is
//! the body as it would otherwise be stored (packed or JSON). The associated data is the field's
//! name (`table.column`), so a sealed value cannot be moved to another column unnoticed.
//!
//! A ring without a primary key seals nothing (encryption off), and every reader accepts plain
//! values too: encryption can be switched on, and keys rotated, while the service runs; the
//! re-sealing job ([`crate::reseal`]) brings old rows to the primary key in the background.

use crate::{StoreError, StoreResult};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::{Arc, LazyLock, RwLock};

/// Tag byte of a sealed body (a packed body starts with 0x01, a JSON one with `{`).
pub const SEALED_V1: u8 = 0x02;
const TEXT_SEALED: &str = "enc1:";
const TEXT_ESCAPED: &str = "enc0:";
const NONCE: usize = 12;
/// The start of a sealed file (case attachments): files are arbitrary bytes, so one tag byte
/// could be a file's own first byte; eight cannot, in practice.
const FILE_MAGIC: &[u8; 8] = b"\x02rdseal1";

/// A key's identity: the first four bytes of a hash of its material, so that two deployments'
/// keys, or two generations of one, never share an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    pub fn of(key: &[u8; 32]) -> Self {
        let digest = Sha256::new().chain_update(b"riskdesk field key v1").chain_update(key).finalize();
        Self([digest[0], digest[1], digest[2], digest[3]])
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The keys a process knows: the primary seals, every key opens.
#[derive(Default)]
pub struct Ring {
    primary: Option<KeyId>,
    keys: Vec<(KeyId, Aes256Gcm)>,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|(id, _)| id.hex()).collect();
        f.debug_struct("Ring").field("primary", &self.primary.map(|k| k.hex())).field("keys", &ids).finish()
    }
}

fn corrupt(field: &str, what: impl std::fmt::Display) -> StoreError {
    // The field's name only: never the value.
    StoreError::Corrupt(format!("sealed {field}: {what}"))
}

impl Ring {
    /// A ring of `keys`, sealing with `primary` (one of them) or, when it is `None`, not at all.
    pub fn new(keys: &[[u8; 32]], primary: Option<&[u8; 32]>) -> Self {
        let mut ring = Ring { primary: primary.map(KeyId::of), keys: Vec::new() };
        for k in keys.iter().chain(primary) {
            let id = KeyId::of(k);
            if !ring.keys.iter().any(|(i, _)| *i == id) {
                ring.keys.push((id, Aes256Gcm::new(&Key::<Aes256Gcm>::from(*k))));
            }
        }
        ring
    }

    pub fn primary(&self) -> Option<KeyId> {
        self.primary
    }

    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|(id, _)| *id).collect()
    }

    fn cipher(&self, id: KeyId) -> Option<&Aes256Gcm> {
        self.keys.iter().find(|(i, _)| *i == id).map(|(_, c)| c)
    }

    fn encrypt(&self, field: &str, plain: &[u8]) -> Option<(KeyId, [u8; NONCE], Vec<u8>)> {
        let id = self.primary?;
        let cipher = self.cipher(id)?;
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).ok()?;
        let sealed = cipher.encrypt(&Nonce::from(nonce), Payload { msg: plain, aad: field.as_bytes() }).ok()?;
        Some((id, nonce, sealed))
    }

    fn decrypt(&self, field: &str, id: KeyId, nonce: &[u8], sealed: &[u8]) -> StoreResult<Vec<u8>> {
        let cipher = self.cipher(id).ok_or_else(|| corrupt(field, format!("key {id} is not in the key file")))?;
        let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| corrupt(field, "short nonce"))?;
        cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad: field.as_bytes() })
            .map_err(|_| corrupt(field, format!("does not open under key {id}")))
    }

    /// A text value as stored: sealed under the primary key, or plain (escaped if need be)
    /// when there is none.
    pub fn seal_text(&self, field: &str, plain: &str) -> String {
        match self.encrypt(field, plain.as_bytes()) {
            Some((id, nonce, sealed)) => {
                let mut raw = Vec::with_capacity(NONCE + sealed.len());
                raw.extend_from_slice(&nonce);
                raw.extend_from_slice(&sealed);
                format!("{TEXT_SEALED}{id}:{}", URL_SAFE_NO_PAD.encode(raw))
            }
            None if plain.starts_with(TEXT_SEALED) || plain.starts_with(TEXT_ESCAPED) => {
                format!("{TEXT_ESCAPED}{plain}")
            }
            None => plain.to_owned(),
        }
    }

    /// A stored text value, opened.
    pub fn open_text<'a>(&self, field: &str, stored: &'a str) -> StoreResult<Cow<'a, str>> {
        if let Some(rest) = stored.strip_prefix(TEXT_ESCAPED) {
            return Ok(Cow::Borrowed(rest));
        }
        let Some(rest) = stored.strip_prefix(TEXT_SEALED) else { return Ok(Cow::Borrowed(stored)) };
        let (id, data) = rest.split_once(':').ok_or_else(|| corrupt(field, "no key id"))?;
        let id = parse_id(id).ok_or_else(|| corrupt(field, "bad key id"))?;
        let raw = URL_SAFE_NO_PAD.decode(data).map_err(|_| corrupt(field, "not base64"))?;
        if raw.len() < NONCE {
            return Err(corrupt(field, "too short"));
        }
        let plain = self.decrypt(field, id, &raw[..NONCE], &raw[NONCE..])?;
        String::from_utf8(plain).map(Cow::Owned).map_err(|_| corrupt(field, "not UTF-8"))
    }

    /// A body as stored: `inner` sealed under the primary key, or `inner` itself when there is none.
    pub fn seal_bytes(&self, field: &str, inner: Vec<u8>) -> Vec<u8> {
        match self.encrypt(field, &inner) {
            Some((id, nonce, sealed)) => {
                let mut out = Vec::with_capacity(1 + 4 + NONCE + sealed.len());
                out.push(SEALED_V1);
                out.extend_from_slice(&id.0);
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
                out
            }
            None => inner,
        }
    }

    /// A stored body, opened (a body that is not sealed is returned as it is).
    pub fn open_bytes<'a>(&self, field: &str, stored: &'a [u8]) -> StoreResult<Cow<'a, [u8]>> {
        if stored.first() != Some(&SEALED_V1) {
            return Ok(Cow::Borrowed(stored));
        }
        if stored.len() < 1 + 4 + NONCE {
            return Err(corrupt(field, "too short"));
        }
        let id = KeyId([stored[1], stored[2], stored[3], stored[4]]);
        self.decrypt(field, id, &stored[5..5 + NONCE], &stored[5 + NONCE..]).map(Cow::Owned)
    }
}

impl Ring {
    /// A file as stored: sealed under the primary key behind [`FILE_MAGIC`], or as it is.
    pub fn seal_file(&self, field: &str, data: &[u8]) -> Vec<u8> {
        match self.encrypt(field, data) {
            Some((id, nonce, sealed)) => {
                let mut out = Vec::with_capacity(FILE_MAGIC.len() + 4 + NONCE + sealed.len());
                out.extend_from_slice(FILE_MAGIC);
                out.extend_from_slice(&id.0);
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
                out
            }
            None => data.to_vec(),
        }
    }

    /// A stored file, opened.
    pub fn open_file<'a>(&self, field: &str, stored: &'a [u8]) -> StoreResult<Cow<'a, [u8]>> {
        let Some(rest) = stored.strip_prefix(FILE_MAGIC.as_slice()) else { return Ok(Cow::Borrowed(stored)) };
        if rest.len() < 4 + NONCE {
            return Err(corrupt(field, "too short"));
        }
        let id = KeyId([rest[0], rest[1], rest[2], rest[3]]);
        self.decrypt(field, id, &rest[4..4 + NONCE], &rest[4 + NONCE..]).map(Cow::Owned)
    }
}

/// The key a stored file is sealed under; `None` for a plain one.
pub fn file_key(stored: &[u8]) -> Option<KeyId> {
    let rest = stored.strip_prefix(FILE_MAGIC.as_slice())?;
    (rest.len() >= 4).then(|| KeyId([rest[0], rest[1], rest[2], rest[3]]))
}

fn parse_id(hex: &str) -> Option<KeyId> {
    if hex.len() != 8 || !hex.is_ascii() {
        return None;
    }
    let mut id = [0u8; 4];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(KeyId(id))
}

/// The key a stored text value is sealed under; `None` for a plain value.
pub fn text_key(stored: &str) -> Option<KeyId> {
    parse_id(stored.strip_prefix(TEXT_SEALED)?.split_once(':')?.0)
}

/// The key a stored body is sealed under; `None` for a plain body.
pub fn bytes_key(stored: &[u8]) -> Option<KeyId> {
    (stored.first() == Some(&SEALED_V1) && stored.len() >= 5)
        .then(|| KeyId([stored[1], stored[2], stored[3], stored[4]]))
}

/// How a sealed column holds its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Text,
    /// A stored body (`crate::body` for orders): bytes, sealed with the [`SEALED_V1`] tag.
    Bytes,
    /// A file: any bytes, sealed behind an eight-byte marker.
    File,
}

/// A column of a table's primary key: its name, and whether it holds integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPart {
    pub column: &'static str,
    pub integer: bool,
}

/// A text column of a primary key.
pub const fn key(column: &'static str) -> KeyPart {
    KeyPart { column, integer: false }
}

/// An integer column of a primary key.
pub const fn int_key(column: &'static str) -> KeyPart {
    KeyPart { column, integer: true }
}

/// A column that holds personal data sealed: what the re-sealing job walks, page by page in the
/// order of the table's primary key. Each area lists its own in its store module;
/// [`crate::sealed_columns`] gathers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub key: &'static [KeyPart],
    pub column: &'static str,
    /// The associated data the value is bound to: `table.column`.
    pub field: &'static str,
    pub form: Form,
}

impl SealedColumn {
    pub const fn text(table: &'static str, key: &'static [KeyPart], column: &'static str, field: &'static str) -> Self {
        Self { table, key, column, field, form: Form::Text }
    }
}

/// The separator of a multi-column key in a pass's cursor (it cannot occur in the ids).
pub const KEY_SEPARATOR: char = '\u{1f}';

/// One page of a re-sealing pass over a column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResealPage {
    /// Rows read (those with a value).
    pub read: u64,
    /// Rows not sealed under the primary key (plain, or under an older key).
    pub stale: u64,
    /// Rows written again under the primary key (fewer than `stale` when a row changed meanwhile:
    /// it was written under the primary by whoever changed it).
    pub resealed: u64,
    /// The last key read, to continue after (its parts joined by [`KEY_SEPARATOR`]); `None` when
    /// the column is done.
    pub next: Option<String>,
}

/// Storage of the re-sealing job.
#[async_trait::async_trait]
pub trait SealStore: Send + Sync {
    /// Reads up to `limit` rows of `column` after key `after` (in key order; empty: from the
    /// start) and, when `write`,
    /// writes those not sealed under the ring's primary key again under it, each only if it
    /// still holds the value read (a concurrent change wins).
    async fn reseal(&self, column: &SealedColumn, after: &str, limit: i64, write: bool) -> StoreResult<ResealPage>;
}

static RING: LazyLock<RwLock<Arc<Ring>>> = LazyLock::new(|| RwLock::new(Arc::new(Ring::default())));

/// Installs the process's ring (at start-up, and again when the key file changes). Keys the
/// process knew stay known until it ends, so that a value sealed a moment ago under a key just
/// dropped from the file still opens; the primary is the new ring's.
pub fn install(ring: Ring) {
    let mut slot = RING.write().unwrap_or_else(|e| e.into_inner());
    let mut ring = ring;
    for (id, cipher) in &slot.keys {
        if !ring.keys.iter().any(|(i, _)| i == id) {
            ring.keys.push((*id, cipher.clone()));
        }
    }
    *slot = Arc::new(ring);
}

/// The process's ring.
pub fn ring() -> Arc<Ring> {
    RING.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Seals a text field under the process's ring.
pub fn seal(field: &str, plain: &str) -> String {
    ring().seal_text(field, plain)
}

/// Seals an optional text field.
pub fn seal_opt(field: &str, plain: Option<&str>) -> Option<String> {
    plain.map(|p| seal(field, p))
}

/// Opens a text field under the process's ring.
pub fn open(field: &str, stored: String) -> StoreResult<String> {
    if !stored.starts_with(TEXT_SEALED) && !stored.starts_with(TEXT_ESCAPED) {
        return Ok(stored);
    }
    ring().open_text(field, &stored).map(Cow::into_owned)
}

/// Opens an optional text field.
pub fn open_opt(field: &str, stored: Option<String>) -> StoreResult<Option<String>> {
    stored.map(|s| open(field, s)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K1: [u8; 32] = [1; 32];
    const K2: [u8; 32] = [2; 32];

    #[test]
    fn text_round_trips_and_hides_the_value() {
        let ring = Ring::new(&[K1], Some(&K1));
        let stored = ring.seal_text("customers.email", "anna@example.com");
        assert!(stored.starts_with("enc1:") && !stored.contains("anna"), "{stored}");
        assert_eq!(text_key(&stored), Some(KeyId::of(&K1)));
        assert_eq!(ring.open_text("customers.email", &stored).unwrap(), "anna@example.com");
        // Two seals of one value differ (random nonces): equal values cannot be spotted.
        assert_ne!(stored, ring.seal_text("customers.email", "anna@example.com"));
    }

    #[test]
    fn a_value_moved_to_another_column_does_not_open() {
        let ring = Ring::new(&[K1], Some(&K1));
        let stored = ring.seal_text("customers.email", "anna@example.com");
        let err = ring.open_text("customers.name", &stored).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(ref m) if !m.contains("anna")), "{err}");
    }

    #[test]
    fn old_keys_open_and_the_primary_seals() {
        let old = Ring::new(&[K1], Some(&K1));
        let stored = old.seal_text("f", "v");
        let rotated = Ring::new(&[K1], Some(&K2));
        assert_eq!(rotated.open_text("f", &stored).unwrap(), "v");
        assert_eq!(text_key(&rotated.seal_text("f", "v")), Some(KeyId::of(&K2)));
        let without_k1 = Ring::new(&[], Some(&K2));
        let err = without_k1.open_text("f", &stored).unwrap_err();
        assert!(err.to_string().contains(&KeyId::of(&K1).hex()), "{err}");
    }

    #[test]
    fn without_a_primary_nothing_is_sealed_and_lookalikes_are_escaped() {
        let off = Ring::new(&[K1], None);
        assert_eq!(off.seal_text("f", "plain"), "plain");
        let tricky = off.seal_text("f", "enc1:00000000:AAAA");
        assert_eq!(tricky, "enc0:enc1:00000000:AAAA");
        assert_eq!(off.open_text("f", &tricky).unwrap(), "enc1:00000000:AAAA");
        assert_eq!(off.seal_bytes("f", b"{}".to_vec()), b"{}");
    }

    #[test]
    fn bodies_round_trip_and_damage_is_corrupt() {
        let ring = Ring::new(&[K1], Some(&K1));
        let stored = ring.seal_bytes("orders.body", br#"{"email":"anna@example.com"}"#.to_vec());
        assert_eq!(stored[0], SEALED_V1);
        assert_eq!(bytes_key(&stored), Some(KeyId::of(&K1)));
        assert_eq!(ring.open_bytes("orders.body", &stored).unwrap().as_ref(), br#"{"email":"anna@example.com"}"#);
        let mut flipped = stored.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(ring.open_bytes("orders.body", &flipped).is_err());
        assert!(ring.open_bytes("orders.body", &stored[..10]).is_err());
        assert!(ring.open_bytes("events.body", &stored).is_err());
        assert_eq!(ring.open_bytes("orders.body", b"{}").unwrap().as_ref(), b"{}");
    }

    #[test]
    fn hostile_sealed_text_is_corrupt_not_a_panic() {
        let ring = Ring::new(&[K1], Some(&K1));
        for bad in
            ["enc1:", "enc1:zz:AAAA", "enc1:0000000:AAAA", "enc1:00000000:!!", "enc1:00000000:AAAA", "enc1:é0000000:A"]
        {
            assert!(ring.open_text("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn files_round_trip_and_plain_files_pass() {
        let ring = Ring::new(&[K1], Some(&K1));
        let pdf = b"%PDF-1.7 passport scan".to_vec();
        let stored = ring.seal_file("case_attachments.data", &pdf);
        assert!(!stored.windows(8).any(|w| w == b"passport"));
        assert_eq!(file_key(&stored), Some(KeyId::of(&K1)));
        assert_eq!(ring.open_file("case_attachments.data", &stored).unwrap().as_ref(), pdf.as_slice());
        // A plain file that starts with a body's tag byte is still a plain file.
        let odd = vec![SEALED_V1, 1, 2, 3];
        assert_eq!(ring.open_file("case_attachments.data", &odd).unwrap().as_ref(), odd.as_slice());
        assert_eq!(Ring::new(&[], None).seal_file("f", &odd), odd);
    }

    proptest! {
        #[test]
        fn any_text_round_trips_sealed_or_not(s in "\\PC{0,300}") {
            let on = Ring::new(&[K1], Some(&K1));
            let off = Ring::new(&[], None);
            let (sealed, plain) = (on.seal_text("f", &s), off.seal_text("f", &s));
            prop_assert_eq!(on.open_text("f", &sealed).unwrap(), s.as_str());
            prop_assert_eq!(off.open_text("f", &plain).unwrap(), s.as_str());
        }
    }
}
