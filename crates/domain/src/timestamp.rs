//! Times serialised exactly as chrono serialises them (RFC 3339 such as
//! `2026-11-21T10:15:00+01:00`, `Z` for a zero offset, a fraction only when there is one), but
//! written without `fmt`: chrono's own writer goes through `fmt` a character at a time, and an
//! order's two times cost about a sixth of serialising it. What the fast path does not cover
//! (fractions of a second, offsets with seconds, years outside 0-9999) goes to chrono itself; a
//! property test compares the two on any time.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use serde::{Serialize, Serializer};

/// `#[serde(serialize_with = "crate::timestamp::serialize")]`
pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 25];
    match write(t, &mut buf) {
        Some(text) => s.serialize_str(text),
        None => t.serialize(s),
    }
}

/// The same for an optional time (`skip_serializing_if = "Option::is_none"` beside it).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<FixedOffset>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS` and `Z` or `±HH:MM`, or `None` where chrono writes more.
fn write<'b>(t: &DateTime<FixedOffset>, buf: &'b mut [u8; 25]) -> Option<&'b str> {
    let local = t.naive_local();
    let offset = t.offset().local_minus_utc();
    if !(0..=9999).contains(&local.year()) || local.nanosecond() != 0 || offset % 60 != 0 {
        return None;
    }
    // Each number at its place in `YYYY-MM-DDTHH:MM:SS±HH:MM`, most significant digit first.
    let put = |buf: &mut [u8; 25], at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    buf[..20].copy_from_slice(b"0000-00-00T00:00:00Z");
    put(buf, 0, 4, local.year() as u32);
    put(buf, 5, 2, local.month());
    put(buf, 8, 2, local.day());
    put(buf, 11, 2, local.hour());
    put(buf, 14, 2, local.minute());
    put(buf, 17, 2, local.second());
    let end = if offset == 0 {
        20
    } else {
        buf[19] = if offset < 0 { b'-' } else { b'+' };
        let minutes = offset.unsigned_abs() / 60;
        put(buf, 20, 2, minutes / 60);
        buf[22] = b':';
        put(buf, 23, 2, minutes % 60);
        25
    };
    // Digits and separators: ASCII.
    std::str::from_utf8(&buf[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn ours(t: &DateTime<FixedOffset>) -> String {
        let mut out = Vec::new();
        serialize(t, &mut serde_json::Serializer::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_what_chrono_writes() {
        for text in [
            "2026-11-21T10:15:00+01:00",
            "2026-11-21T10:15:00Z",
            "2026-11-21T10:15:00+00:00",
            "0001-01-01T00:00:00-12:30",
            "9999-12-31T23:59:59+14:00",
            "2026-03-29T02:30:00.5+02:00",
            "2026-03-29T02:30:00.123456789-05:00",
        ] {
            let t = DateTime::parse_from_rfc3339(text).unwrap();
            assert_eq!(ours(&t), serde_json::to_string(&t).unwrap(), "{text}");
        }
        let odd = FixedOffset::east_opt(3600 + 7).unwrap().with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(ours(&odd), serde_json::to_string(&odd).unwrap());
    }

    proptest! {
        #[test]
        fn any_time_is_written_as_chrono_writes_it(
            secs in -62_135_596_800i64..253_402_300_799,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
            offset in prop_oneof![Just(0i32), (-(14 * 60)..=(14 * 60)).prop_map(|m| m * 60), -86_399i32..86_399],
        ) {
            let t = FixedOffset::east_opt(offset).unwrap().timestamp_opt(secs, nanos).unwrap();
            prop_assert_eq!(ours(&t), serde_json::to_string(&t).unwrap());
        }
    }
}
