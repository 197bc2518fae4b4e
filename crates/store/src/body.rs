//! Stored order bodies, packed: zstd with a dictionary trained on stored orders.
//!
//! Why: the JSON body is nine tenths of an order's row (about 1.1 KiB of 1.2), and on SQLite
//! every byte of it is written twice (WAL, then checkpoint): a million orders wrote 2.4 GB.
//! Each body alone compresses poorly (1.9 ×: the same keys in every order, but too little text
//! to learn them from); against a dictionary trained on stored orders it shrinks about 6 ×, to
//! under 200 bytes. Packing is done where orders are prepared, in parallel, not on the writer.
//! A trained dictionary, not raw sample text: its entropy tables spare building new ones per
//! body, which made packing against twenty sample bodies 2.6 × slower (and 20 % larger).
//!
//! Format: a tag byte, then one zstd frame (no checksum: the database pages have their own;
//! no dictionary id: the tag says which). `PACKED_V1` frames need `body-dict-v1.zdict`, which
//! therefore never changes (`bench/train-body-dict.sh` says how it was made); a better
//! dictionary gets a new tag, and the old one stays for the rows written with it. A body that
//! starts with `{` is plain JSON (rows written before packing, and backends that keep JSON),
//! so the readers here take both.

use crate::{StoreError, StoreResult};
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::LazyLock;

/// Tag of a body packed with zstd level 1 against [`DICT_V1`].
pub const PACKED_V1: u8 = 0x01;
const DICT_V1: &[u8] = include_bytes!("body-dict-v1.zdict");
/// Level 1: level 3 made bodies 0.7 % smaller and packing 15 % slower.
const LEVEL: i32 = 1;
/// A packed frame never claims more than this (the intake limit is 1 MiB a request): a damaged
/// or hostile frame cannot make a reader allocate more.
const MAX_BODY: u64 = 64 << 20;

static ENCODER_V1: LazyLock<zstd::dict::EncoderDictionary<'static>> =
    LazyLock::new(|| zstd::dict::EncoderDictionary::copy(DICT_V1, LEVEL));
static DECODER_V1: LazyLock<zstd::dict::DecoderDictionary<'static>> =
    LazyLock::new(|| zstd::dict::DecoderDictionary::copy(DICT_V1));

thread_local! {
    // A context per thread: creating one per body cost more than packing it.
    // The compressor writes into the scratch buffer, then the body is copied out at its size.
    static COMPRESSOR: RefCell<Option<(zstd::bulk::Compressor<'static>, Vec<u8>)>> = const { RefCell::new(None) };
    // An order's JSON on its way to being packed: written here rather than into a string of
    // its own, which cost an allocation of the body's size, and its page faults, per order.
    static JSON: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

fn compressor() -> std::io::Result<zstd::bulk::Compressor<'static>> {
    let mut c = zstd::bulk::Compressor::with_prepared_dictionary(&ENCODER_V1)?;
    c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(false))?;
    // zstd's default, set because `unpack` sizes its output from it.
    c.set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(true))?;
    c.set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false))?;
    Ok(c)
}

/// Serialises an order and packs its JSON; `None` should either fail (then the body is stored
/// as JSON).
pub fn pack_order(order: &riskdesk_domain::Order) -> Option<Vec<u8>> {
    JSON.with(|cell| {
        let mut json = cell.try_borrow_mut().ok()?;
        json.clear();
        serde_json::to_writer(&mut *json, order).ok()?;
        pack_bytes(&json)
    })
}

/// Packs a JSON body; `None` should zstd fail (then the body is stored as JSON).
pub fn pack(json: &str) -> Option<Vec<u8>> {
    pack_bytes(json.as_bytes())
}

fn pack_bytes(json: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = compressor().ok().map(|c| (c, Vec::new()));
        }
        let (c, scratch) = slot.as_mut()?;
        scratch.clear();
        scratch.reserve(zstd::zstd_safe::compress_bound(json.len()));
        c.compress_to_buffer(json, scratch).ok()?;
        let mut out = Vec::with_capacity(1 + scratch.len());
        out.push(PACKED_V1);
        out.extend_from_slice(scratch);
        Some(out)
    })
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("order body: {e}"))
}

/// The field name sealed order bodies are bound to (`crate::seal`).
pub const FIELD: &str = "orders.body";

/// A body ready for storage (packed or JSON bytes) sealed under the process's key ring, or as it
/// is when encryption is off.
pub fn seal(inner: Vec<u8>) -> Vec<u8> {
    crate::seal::ring().seal_bytes(FIELD, inner)
}

/// A JSON body as a backend stores it: packed where packing works, sealed when encryption is on.
pub fn store_json(json: &str) -> Vec<u8> {
    seal(pack(json).unwrap_or_else(|| json.as_bytes().to_vec()))
}

/// The JSON of a stored body: sealed or not, packed or not.
pub fn unpack(stored: &[u8]) -> StoreResult<Cow<'_, str>> {
    if stored.first() == Some(&crate::seal::SEALED_V1) {
        let inner = crate::seal::ring().open_bytes(FIELD, stored)?.into_owned();
        if inner.first() == Some(&crate::seal::SEALED_V1) {
            return Err(corrupt("sealed twice"));
        }
        return unpack(&inner).map(|c| Cow::Owned(c.into_owned()));
    }
    match stored.first() {
        Some(b'{') => std::str::from_utf8(stored).map(Cow::Borrowed).map_err(corrupt),
        Some(&PACKED_V1) => {
            let frame = &stored[1..];
            let size = zstd::zstd_safe::get_frame_content_size(frame)
                .map_err(|_| corrupt("not a zstd frame"))?
                .ok_or_else(|| corrupt("packed without its size"))?;
            if size > MAX_BODY {
                return Err(corrupt(format!("claims {size} bytes")));
            }
            let bytes = DECOMPRESSOR.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.is_none() {
                    *slot = Some(zstd::bulk::Decompressor::with_prepared_dictionary(&DECODER_V1).map_err(corrupt)?);
                }
                let Some(d) = slot.as_mut() else { unreachable!("set above") };
                d.decompress(frame, size as usize).map_err(corrupt)
            })?;
            String::from_utf8(bytes).map(Cow::Owned).map_err(corrupt)
        }
        Some(tag) => Err(corrupt(format!("unknown format {tag:#04x}"))),
        None => Err(corrupt("empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_dictionary_is_a_zstd_dictionary() {
        assert_eq!(DICT_V1[..4], 0xEC30_A437_u32.to_le_bytes(), "zstd dictionary magic");
        assert_eq!(DICT_V1.len(), 32_768);
    }

    #[test]
    fn an_order_packed_directly_unpacks_to_its_json() {
        let order = crate::conformance::new_order(&crate::conformance::order_json("O-pack-2", "C-pack-2", 7)).order;
        let packed = pack_order(&order).expect("packs");
        assert_eq!(packed, pack(&crate::codec::order_body(&order)).expect("packs"));
        assert_eq!(unpack(&packed).unwrap(), crate::codec::order_body(&order));
    }

    #[test]
    fn packed_bodies_round_trip_and_are_several_times_smaller() {
        let body = crate::codec::order_body(
            &crate::conformance::new_order(&crate::conformance::order_json("O-pack-1", "C-pack-1", 5)).order,
        );
        let packed = pack(&body).expect("packs");
        assert_eq!(packed[0], PACKED_V1);
        assert!(packed.len() * 3 < body.len(), "{} → {} bytes", body.len(), packed.len());
        assert_eq!(unpack(&packed).expect("unpacks"), body);
    }

    #[test]
    fn plain_json_is_read_as_it_is() {
        let body = r#"{"order_id":"O-1"}"#;
        assert!(matches!(unpack(body.as_bytes()), Ok(Cow::Borrowed(b)) if b == body));
    }

    #[test]
    fn damaged_or_foreign_bodies_are_corrupt_not_a_panic() {
        let json = r#"{"order_id":"O-1","note":"some text to pack"}"#;
        let packed = pack(json).expect("packs");
        let refused: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("unknown tag", vec![0x03, 1, 2, 3]),
            ("tag alone", vec![PACKED_V1]),
            ("frame header alone", vec![PACKED_V1, 0x28, 0xb5, 0x2f, 0xfd]),
            ("truncated frame", packed[..packed.len() - 2].to_vec()),
            ("JSON that is not UTF-8", b"{\xff}".to_vec()),
        ];
        for (case, stored) in refused {
            let err = unpack(&stored).expect_err(case);
            assert!(matches!(err, StoreError::Corrupt(ref m) if m.starts_with("order body")), "{case}: {err}");
        }
        // Without a checksum a flipped byte may still decode, but never to the body it was.
        let mut flipped = packed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        if let Ok(text) = unpack(&flipped) {
            assert_ne!(text, json);
        }
    }

    proptest! {
        #[test]
        fn any_text_round_trips(s in "\\PC{0,2000}") {
            let body = format!("{{\"v\":{}}}", serde_json::Value::String(s));
            let packed = pack(&body).expect("packs");
            prop_assert_eq!(unpack(&packed).expect("unpacks"), body);
        }
    }
}
