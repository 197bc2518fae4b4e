//! The statutory clock of a data-subject request (Art. 12(3) GDPR, periods counted as in
//! Regulation 1182/71, Art. 3(2)(c)): one calendar month from the day of receipt, in the
//! controller's time zone. The period ends on the same date of the next month, or on that month's
//! last day when it has no such date (received 31 January, due 28 or 29 February). It may be
//! extended by up to two further months (three from receipt) if the extension and its reasons are
//! recorded within the first month, and it stands still while the controller waits for identity
//! information it asked for (Art. 12(6)): each paused day moves the due date by a day.
//!
//! Art. 3(4) of 1182/71 would move a period ending on a Saturday, Sunday or holiday to the next
//! working day; answering by the calendar date is always in time, so that roll is an option
//! (`roll_weekends`) and off by default.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc, Weekday};
use serde::Serialize;

/// The day a time falls on in the controller's zone.
pub fn local_date(at: DateTime<Utc>, zone: chrono_tz::Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// `months` calendar months after `from`: the same date, or the last day of a shorter month.
pub fn add_months(from: NaiveDate, months: u32) -> NaiveDate {
    from.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// A request's clock as stored: the day of receipt, the months granted (1, or 2-3 once extended),
/// the days already paused, and the day a running pause began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestClock {
    pub received_on: NaiveDate,
    pub months: u32,
    pub paused_days: i64,
    pub paused_since: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("an extension must be recorded within the first month (by {0})")]
    TooLate(NaiveDate),
    #[error("the period may be extended by two further months at most")]
    TooLong,
    #[error("the clock is not paused")]
    NotPaused,
    #[error("the clock is paused already")]
    AlreadyPaused,
}

impl RequestClock {
    pub fn new(received_on: NaiveDate) -> Self {
        Self { received_on, months: 1, paused_days: 0, paused_since: None }
    }

    /// Days paused up to `today` (a running pause counts up to today).
    pub fn paused_until(&self, today: NaiveDate) -> i64 {
        self.paused_days + self.paused_since.map_or(0, |s| (today - s).num_days().max(0))
    }

    /// The last day to answer, as it stands on `today`; `roll_weekends` moves a Saturday or
    /// Sunday to the Monday after.
    pub fn due_on(&self, today: NaiveDate, roll_weekends: bool) -> NaiveDate {
        let due = add_months(self.received_on, self.months) + Duration::days(self.paused_until(today));
        if roll_weekends { next_working_day(due) } else { due }
    }

    /// The end of the first month (pauses included): the last day an extension may be recorded.
    pub fn first_month_ends(&self, today: NaiveDate) -> NaiveDate {
        add_months(self.received_on, 1) + Duration::days(self.paused_until(today))
    }

    /// Extends by `by` further months (1 or 2, at most 2 in all), recorded on `today`.
    pub fn extend(&mut self, by: u32, today: NaiveDate) -> Result<(), ClockError> {
        let limit = self.first_month_ends(today);
        if today > limit {
            return Err(ClockError::TooLate(limit));
        }
        if by == 0 || self.months + by > 3 {
            return Err(ClockError::TooLong);
        }
        self.months += by;
        Ok(())
    }

    /// Stops the clock on `today` (identity information asked for).
    pub fn pause(&mut self, today: NaiveDate) -> Result<(), ClockError> {
        if self.paused_since.is_some() {
            return Err(ClockError::AlreadyPaused);
        }
        self.paused_since = Some(today);
        Ok(())
    }

    /// Runs the clock again on `today` (the information arrived); the days between count as paused.
    pub fn resume(&mut self, today: NaiveDate) -> Result<(), ClockError> {
        let since = self.paused_since.take().ok_or(ClockError::NotPaused)?;
        self.paused_days += (today - since).num_days().max(0);
        Ok(())
    }

    /// Days left on `today` (0 on the due day, negative when overdue); none while paused.
    pub fn days_left(&self, today: NaiveDate, roll_weekends: bool) -> Option<i64> {
        self.paused_since.is_none().then(|| (self.due_on(today, roll_weekends) - today).num_days())
    }
}

fn next_working_day(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d + Duration::days(2),
        Weekday::Sun => d + Duration::days(1),
        _ => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Written from Art. 12(3) and Regulation 1182/71 Art. 3(2)(c): same date next month, or
    /// that month's last day.
    #[test]
    fn one_calendar_month_table() {
        let table = [
            ("2026-01-31", "2026-02-28"), // no 31 February: the month's last day
            ("2028-01-31", "2028-02-29"), // leap year
            ("2028-01-30", "2028-02-29"),
            ("2026-01-28", "2026-02-28"),
            ("2026-03-15", "2026-04-15"),
            ("2026-03-31", "2026-04-30"),
            ("2026-04-30", "2026-05-30"), // not the month's end: the same date
            ("2026-08-31", "2026-09-30"),
            ("2026-12-15", "2027-01-15"), // over the year's end
            ("2026-12-31", "2027-01-31"),
            ("2027-02-28", "2027-03-28"),
            ("2028-02-29", "2028-03-29"),
        ];
        for (received, due) in table {
            let c = RequestClock::new(d(received));
            assert_eq!(c.due_on(d(received), false), d(due), "received {received}");
        }
    }

    #[test]
    fn receipt_is_a_local_day() {
        let berlin = chrono_tz::Europe::Berlin;
        // 23:30 UTC on 31 January is already 1 February in Berlin: due 1 March.
        let late = Utc.with_ymd_and_hms(2026, 1, 31, 23, 30, 0).unwrap();
        let c = RequestClock::new(local_date(late, berlin));
        assert_eq!(c.received_on, d("2026-02-01"));
        assert_eq!(c.due_on(c.received_on, false), d("2026-03-01"));
        // In New York it is still 31 January.
        assert_eq!(local_date(late, chrono_tz::America::New_York), d("2026-01-31"));
        // Summer time: 22:30 UTC on 31 March is 1 April 00:30 in Berlin.
        let summer = Utc.with_ymd_and_hms(2026, 3, 31, 22, 30, 0).unwrap();
        assert_eq!(local_date(summer, berlin), d("2026-04-01"));
    }

    #[test]
    fn extension_counts_from_receipt_and_only_within_the_first_month() {
        let mut c = RequestClock::new(d("2026-01-31"));
        c.extend(2, d("2026-02-27")).unwrap();
        assert_eq!(c.due_on(d("2026-02-27"), false), d("2026-04-30"));
        assert_eq!(c.extend(1, d("2026-02-27")), Err(ClockError::TooLong));
        let mut late = RequestClock::new(d("2026-03-15"));
        assert_eq!(late.extend(1, d("2026-04-16")), Err(ClockError::TooLate(d("2026-04-15"))));
        late.extend(1, d("2026-04-15")).unwrap();
        assert_eq!(late.due_on(d("2026-04-15"), false), d("2026-05-15"));
        assert_eq!(late.extend(2, d("2026-04-15")), Err(ClockError::TooLong));
        assert_eq!(RequestClock::new(d("2026-03-15")).extend(0, d("2026-03-16")), Err(ClockError::TooLong));
    }

    #[test]
    fn waiting_for_identity_stops_the_clock() {
        let mut c = RequestClock::new(d("2026-03-15"));
        c.pause(d("2026-03-20")).unwrap();
        assert_eq!(c.days_left(d("2026-03-25"), false), None);
        // While paused the due date moves day by day.
        assert_eq!(c.due_on(d("2026-03-25"), false), d("2026-04-20"));
        c.resume(d("2026-03-30")).unwrap();
        assert_eq!(c.paused_days, 10);
        assert_eq!(c.due_on(d("2026-04-01"), false), d("2026-04-25"));
        assert_eq!(c.days_left(d("2026-04-01"), false), Some(24));
        assert_eq!(c.resume(d("2026-04-01")), Err(ClockError::NotPaused));
        // The extension deadline moves with the pause too.
        assert_eq!(c.first_month_ends(d("2026-04-01")), d("2026-04-25"));
    }

    #[test]
    fn days_left_and_overdue() {
        let c = RequestClock::new(d("2026-11-10"));
        assert_eq!(c.days_left(d("2026-12-10"), false), Some(0));
        assert_eq!(c.days_left(d("2026-12-12"), false), Some(-2));
    }

    #[test]
    fn weekend_roll_is_an_option() {
        // 28 February 2026 is a Saturday.
        let c = RequestClock::new(d("2026-01-31"));
        assert_eq!(c.due_on(d("2026-02-01"), false), d("2026-02-28"));
        assert_eq!(c.due_on(d("2026-02-01"), true), d("2026-03-02"));
    }
}
