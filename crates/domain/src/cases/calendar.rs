//! Business calendars: working hours per weekday in a time zone, and public holidays. SLA
//! budgets are spent only inside working hours, so "4 business hours" opened on Friday at 16:00
//! in Berlin falls due on Monday at 10:00, across weekends, holidays and clock changes.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// Working hours on each weekday (Monday first), in a time zone, without the holidays.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    tz: Tz,
    /// `None`: not a working day.
    days: [Option<(NaiveTime, NaiveTime)>; 7],
    holidays: BTreeSet<NaiveDate>,
    /// Every hour counts (urgent cases): the other fields are ignored.
    around_the_clock: bool,
}

/// Why a calendar's settings were refused; the text names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CalendarError {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> CalendarError {
    CalendarError { field, message: message.into() }
}

/// Days with no clock budget searched before giving up (a calendar must have a working day).
const SEARCH_DAYS: i64 = 3 * 366;

impl BusinessCalendar {
    /// Every hour of every day.
    pub fn around_the_clock() -> Self {
        Self { tz: chrono_tz::UTC, days: [None; 7], holidays: BTreeSet::new(), around_the_clock: true }
    }

    /// `hours` as `mon-fri 08:00-18:00` (ranges or single days, separated by `,`;
    /// e.g. `mon-fri 09:00-17:00, sat 10:00-14:00`), holidays as ISO dates.
    pub fn parse(timezone: &str, hours: &str, holidays: &[String]) -> Result<Self, CalendarError> {
        let tz: Tz = timezone.parse().map_err(|_| bad("timezone", format!("{timezone:?} is not an IANA time zone")))?;
        let mut days = [None; 7];
        for part in hours.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (span, times) = part
                .split_once(' ')
                .ok_or_else(|| bad("hours", format!("{part:?} is not like \"mon-fri 08:00-18:00\"")))?;
            let (from, to) = times
                .trim()
                .split_once('-')
                .ok_or_else(|| bad("hours", format!("{times:?} is not like \"08:00-18:00\"")))?;
            let t = |s: &str| {
                NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad("hours", format!("{s:?} is not a time")))
            };
            let (open, close) = (t(from)?, t(to)?);
            if open >= close {
                return Err(bad("hours", format!("{part:?} closes before it opens")));
            }
            let (first, last) = span.split_once('-').unwrap_or((span, span));
            let day =
                |s: &str| s.trim().parse::<Weekday>().map_err(|_| bad("hours", format!("{s:?} is not a weekday")));
            let (first, last) = (day(first)?.num_days_from_monday(), day(last)?.num_days_from_monday());
            if first > last {
                return Err(bad("hours", format!("{span:?} runs backwards")));
            }
            for d in first..=last {
                days[d as usize] = Some((open, close));
            }
        }
        if days.iter().all(Option::is_none) {
            return Err(bad("hours", "no working day"));
        }
        let holidays = holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h, "%Y-%m-%d").map_err(|_| bad("holidays", format!("{h:?} is not a date")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { tz, days, holidays, around_the_clock: false })
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The working window of a local date, in UTC, if it is a working day. A boundary inside a
    /// clock change's gap moves to the gap's end; inside the repeated hour it takes the first.
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return None;
        }
        let (open, close) = self.days[date.weekday().num_days_from_monday() as usize]?;
        Some((self.instant(date, open), self.instant(date, close)))
    }

    fn instant(&self, date: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(t);
        let mut probe = local;
        // A gap is at most a few hours; step through it in minutes.
        for _ in 0..(24 * 60) {
            if let Some(x) = self.tz.from_local_datetime(&probe).earliest() {
                return x.with_timezone(&Utc);
            }
            probe += Duration::minutes(1);
        }
        Utc.from_utc_datetime(&local)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The instant `budget` of working time after `start`.
    pub fn add(&self, start: DateTime<Utc>, budget: Duration) -> DateTime<Utc> {
        if self.around_the_clock || budget <= Duration::zero() {
            return start + budget.max(Duration::zero());
        }
        let mut left = budget;
        let mut date = self.local_date(start);
        for _ in 0..SEARCH_DAYS {
            if let Some((open, close)) = self.window(date) {
                let from = open.max(start);
                if from < close {
                    let avail = close - from;
                    if left <= avail {
                        return from + left;
                    }
                    left -= avail;
                }
            }
            date = date.succ_opt().unwrap_or(date);
        }
        // Unreachable with a working day in the week; keep the clock running rather than stop.
        start + budget
    }

    /// Working time between two instants (zero if `to` is not after `from`).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if self.around_the_clock {
            return to - from;
        }
        let mut total = Duration::zero();
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last {
            if let Some((open, close)) = self.window(date) {
                let (a, b) = (open.max(from), close.min(to));
                if a < b {
                    total += b - a;
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn berlin() -> BusinessCalendar {
        BusinessCalendar::parse("Europe/Berlin", "mon-fri 08:00-18:00", &["2026-12-24".into(), "2026-12-25".into()])
            .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn friday_afternoon_runs_into_monday() {
        // Friday 2026-12-04 16:00 Berlin (15:00 UTC) + 4 h: 2 h on Friday, 2 h on Monday.
        let due = berlin().add(utc("2026-12-04T15:00:00Z"), Duration::hours(4));
        assert_eq!(due, utc("2026-12-07T09:00:00Z"));
    }

    #[test]
    fn holidays_and_the_weekend_are_skipped() {
        // Wednesday 23 Dec 17:00 + 2 h: 1 h left that day; 24, 25 holidays, 26-27 weekend.
        let due = berlin().add(utc("2026-12-23T16:00:00Z"), Duration::hours(2));
        assert_eq!(due, utc("2026-12-28T08:00:00Z"));
    }

    #[test]
    fn before_opening_starts_at_opening() {
        let due = berlin().add(utc("2026-12-07T03:00:00Z"), Duration::minutes(30));
        assert_eq!(due, utc("2026-12-07T07:30:00Z"));
    }

    #[test]
    fn the_clock_change_keeps_local_hours() {
        // Summer time ends on Sunday 2026-10-25: Friday 17:00 CEST (15:00 UTC) + 2 h is
        // Monday 09:00 CET, which is 08:00 UTC.
        let due = berlin().add(utc("2026-10-23T15:00:00Z"), Duration::hours(2));
        assert_eq!(due, utc("2026-10-26T08:00:00Z"));
        // And it starts on 2026-03-29: Friday 17:00 CET (16:00 UTC) + 2 h is Monday 09:00 CEST.
        let due = berlin().add(utc("2026-03-27T16:00:00Z"), Duration::hours(2));
        assert_eq!(due, utc("2026-03-30T07:00:00Z"));
    }

    #[test]
    fn a_window_inside_a_gap_opens_at_its_end() {
        // Opening at 02:30 on the night summer time starts (02:00-03:00 does not exist).
        let cal = BusinessCalendar::parse("Europe/Berlin", "sun 02:30-05:00", &[]).unwrap();
        let due = cal.add(utc("2026-03-28T12:00:00Z"), Duration::minutes(10));
        assert_eq!(due, utc("2026-03-29T01:10:00Z"));
    }

    #[test]
    fn around_the_clock_is_plain_addition() {
        let t = utc("2026-12-05T23:00:00Z");
        assert_eq!(BusinessCalendar::around_the_clock().add(t, Duration::hours(3)), t + Duration::hours(3));
    }

    #[test]
    fn bad_settings_name_the_field() {
        assert_eq!(BusinessCalendar::parse("Mars/Base", "mon 08:00-09:00", &[]).unwrap_err().field, "timezone");
        assert_eq!(BusinessCalendar::parse("UTC", "mon 18:00-08:00", &[]).unwrap_err().field, "hours");
        assert_eq!(BusinessCalendar::parse("UTC", "", &[]).unwrap_err().field, "hours");
        assert_eq!(BusinessCalendar::parse("UTC", "funday 08:00-09:00", &[]).unwrap_err().field, "hours");
        assert_eq!(
            BusinessCalendar::parse("UTC", "mon 08:00-09:00", &["24.12.".into()]).unwrap_err().field,
            "holidays"
        );
    }

    proptest! {
        /// Adding a budget and measuring the working time back gives the budget, whatever the
        /// start (weekends, holidays and both clock changes of 2026 included).
        #[test]
        fn add_then_between_is_the_budget(start_min in 0i64..(365 * 24 * 60), budget_min in 1i64..(80 * 60)) {
            let cal = berlin();
            let start = utc("2026-01-01T00:00:00Z") + Duration::minutes(start_min);
            let due = cal.add(start, Duration::minutes(budget_min));
            prop_assert!(due > start);
            prop_assert_eq!(cal.between(start, due), Duration::minutes(budget_min));
        }

        /// Working time is additive over a split point.
        #[test]
        fn between_is_additive(a in 0i64..(200 * 24 * 60), b in 0i64..(20 * 24 * 60), c in 0i64..(20 * 24 * 60)) {
            let cal = berlin();
            let t0 = utc("2026-02-01T00:00:00Z") + Duration::minutes(a);
            let t1 = t0 + Duration::minutes(b);
            let t2 = t1 + Duration::minutes(c);
            prop_assert_eq!(cal.between(t0, t2), cal.between(t0, t1) + cal.between(t1, t2));
        }
    }
}
