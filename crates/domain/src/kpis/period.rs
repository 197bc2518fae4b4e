//! Days, weeks and months in the controller's time zone. An order counts on the local day of
//! its `placed_at`; aggregates are kept per day and summed into weeks (ISO, from Monday) and
//! calendar months. Days are numbers (days since 1970-01-01), so ranges are integer ranges.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Self::Day, Self::Week, Self::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The first day of the period holding `day`.
    pub fn start(self, day: i32) -> i32 {
        let d = date(day);
        match self {
            Self::Day => day,
            Self::Week => day - d.weekday().num_days_from_monday() as i32,
            Self::Month => day_of(d.with_day(1).expect("day 1 exists")),
        }
    }

    /// The first day of the next period after the one starting at `start`.
    pub fn next(self, start: i32) -> i32 {
        match self {
            Self::Day => start + 1,
            Self::Week => start + 7,
            Self::Month => {
                let d = date(start);
                let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
                day_of(NaiveDate::from_ymd_opt(y, m, 1).expect("a valid month"))
            }
        }
    }

    /// A period's name: `2026-11-02`, `2026-W45`, `2026-11`.
    pub fn label(self, start: i32) -> String {
        let d = date(start);
        match self {
            Self::Day => d.format("%Y-%m-%d").to_string(),
            Self::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Self::Month => d.format("%Y-%m").to_string(),
        }
    }
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch");

pub fn date(day: i32) -> NaiveDate {
    EPOCH + Duration::days(i64::from(day))
}

pub fn day_of(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

/// The local day of an instant in `zone`.
pub fn local_day(at: DateTime<Utc>, zone: chrono_tz::Tz) -> i32 {
    day_of(at.with_timezone(&zone).date_naive())
}

/// The instant a local day begins (the first valid local time of that date).
pub fn day_start(day: i32, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let midnight = date(day).and_hms_opt(0, 0, 0).expect("midnight");
    match zone.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        // A zone whose clocks skip midnight: the day starts at the end of the gap.
        chrono::LocalResult::None => zone
            .from_local_datetime(&(midnight + Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&midnight), |t| t.with_timezone(&Utc)),
    }
}

/// Splits the local days `[from, to)` into spans of one UTC offset: `(start ms, end ms, offset
/// ms)`. Within a span, `(t + offset) / 86 400 000` is the local day of `t`, which lets SQL group
/// by local day on either backend without knowing time zones.
pub fn offset_spans(from: i32, to: i32, zone: chrono_tz::Tz) -> Vec<(i64, i64, i64)> {
    let start = day_start(from, zone);
    let end = day_start(to, zone);
    let offset_at =
        |t: DateTime<Utc>| i64::from(zone.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()) * 1000;
    let mut spans = Vec::new();
    let mut s = start;
    let mut off = offset_at(s);
    // Offsets change a few times a year: step a day at a time and find a change to the minute.
    let mut t = start;
    while t < end {
        let next = (t + Duration::days(1)).min(end);
        if offset_at(next) != off {
            // Clocks change on whole minutes: search minutes.
            let minute = |m: i64| DateTime::from_timestamp(m * 60, 0).expect("in range");
            let (mut lo, mut hi) = (t.timestamp().div_euclid(60), next.timestamp().div_euclid(60));
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(minute(mid)) == off { lo = mid } else { hi = mid }
            }
            let hi = minute(hi);
            spans.push((s.timestamp_millis(), hi.timestamp_millis(), off));
            s = hi;
            off = offset_at(hi);
        }
        t = next;
    }
    spans.push((s.timestamp_millis(), end.timestamp_millis(), off));
    spans.retain(|(a, b, _)| a < b);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn day(y: i32, m: u32, d: u32) -> i32 {
        day_of(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn local_days_follow_the_zone() {
        // 23:30 UTC on 1 Nov is 00:30 on 2 Nov in Berlin (CET, +1).
        let t = Utc.with_ymd_and_hms(2026, 11, 1, 23, 30, 0).unwrap();
        assert_eq!(local_day(t, Berlin), day(2026, 11, 2));
        assert_eq!(local_day(t, chrono_tz::UTC), day(2026, 11, 1));
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let wed = day(2026, 12, 2);
        assert_eq!(Period::Week.start(wed), day(2026, 11, 30));
        assert_eq!(Period::Week.label(Period::Week.start(wed)), "2026-W49");
        assert_eq!(Period::Month.start(wed), day(2026, 12, 1));
        assert_eq!(Period::Month.next(day(2026, 12, 1)), day(2027, 1, 1));
        assert_eq!(Period::Month.next(day(2028, 2, 1)), day(2028, 3, 1));
        assert_eq!(Period::Day.label(wed), "2026-12-02");
    }

    #[test]
    fn offset_spans_cut_at_the_clock_changes() {
        // March 2026: Berlin moves from +1 to +2 on 29 March at 01:00 UTC.
        let spans = offset_spans(day(2026, 3, 28), day(2026, 3, 31), Berlin);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].2, 3_600_000);
        assert_eq!(spans[1].2, 7_200_000);
        assert_eq!(spans[0].1, Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap().timestamp_millis());
        // Within each span, the offset arithmetic gives the zone's local day.
        for (a, b, off) in &spans {
            for t in [*a, (*a + *b) / 2, *b - 1] {
                let utc = DateTime::from_timestamp_millis(t).unwrap();
                assert_eq!(((t + off).div_euclid(86_400_000)) as i32, local_day(utc, Berlin));
            }
        }
        // A quiet month is one span.
        assert_eq!(offset_spans(day(2026, 6, 1), day(2026, 7, 1), Berlin).len(), 1);
        // Spans tile the range with no gap.
        let s = offset_spans(day(2026, 1, 1), day(2027, 1, 1), Berlin);
        assert_eq!(s.len(), 3);
        assert!(s.windows(2).all(|w| w[0].1 == w[1].0));
    }
}
