//! SLA clocks of a case: a first-response and a resolution budget per kind and priority, spent
//! in the calendar's working time; waiting states pause the resolution clock, and the time
//! paused (in working time) moves the resolution due time on.

use super::{CaseStatus, Priority};
use crate::cases::calendar::BusinessCalendar;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Budgets of one kind and priority, in working time of the calendar it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaBudget {
    pub first_response: Duration,
    pub resolution: Duration,
    /// Counted on every hour (urgent work), not in working hours.
    pub around_the_clock: bool,
}

impl SlaBudget {
    /// The default budgets per priority (kinds may override them in settings).
    pub fn default_for(p: Priority) -> Self {
        let h = Duration::hours;
        match p {
            Priority::Urgent => Self { first_response: h(1), resolution: h(24), around_the_clock: true },
            Priority::High => Self { first_response: h(4), resolution: h(20), around_the_clock: false },
            Priority::Normal => Self { first_response: h(8), resolution: h(50), around_the_clock: false },
            Priority::Low => Self { first_response: h(20), resolution: h(100), around_the_clock: false },
        }
    }
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Comfortably inside the budget.
    Running,
    /// Less than the warning share of the budget left.
    Warning,
    Breached,
    /// Waiting on the customer or a third party: the clock stands still.
    Paused,
    /// Met (answered, resolved) or no longer running.
    Stopped,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Warning => "warning",
            Self::Breached => "breached",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
        }
    }
}

/// A case's clocks, as stored: due times and the pause bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaClock {
    pub first_response_due_at: DateTime<Utc>,
    pub resolution_due_at: DateTime<Utc>,
    /// Working time spent paused so far, in seconds.
    pub paused_secs: i64,
    /// Since when the clock stands (a waiting state), if it does.
    pub paused_since: Option<DateTime<Utc>>,
}

/// The share of the budget under which a running clock warns.
pub const WARN_SHARE: f64 = 0.2;

impl SlaClock {
    /// The clocks of a case opened at `opened`.
    pub fn start(opened: DateTime<Utc>, b: &SlaBudget, cal: &BusinessCalendar) -> Self {
        let cal = effective(b, cal);
        Self {
            first_response_due_at: cal.add(opened, b.first_response),
            resolution_due_at: cal.add(opened, b.resolution),
            paused_secs: 0,
            paused_since: None,
        }
    }

    /// Follows a status change at `now`: entering a waiting state pauses the resolution clock;
    /// leaving it adds the working time paused to the budget and moves the due time on.
    pub fn on_status(
        &mut self,
        opened: DateTime<Utc>,
        to: CaseStatus,
        now: DateTime<Utc>,
        b: &SlaBudget,
        cal: &BusinessCalendar,
    ) {
        let cal = effective(b, cal);
        match (self.paused_since, to.pauses_sla()) {
            (None, true) => self.paused_since = Some(now),
            (Some(since), false) => {
                self.paused_secs += cal.between(since, now).num_seconds();
                self.paused_since = None;
                self.resolution_due_at = cal.add(opened, b.resolution + Duration::seconds(self.paused_secs));
            }
            _ => {}
        }
    }

    /// Computes the due times anew for another budget (a changed priority), keeping the time
    /// already paused.
    pub fn rebudget(&mut self, opened: DateTime<Utc>, b: &SlaBudget, cal: &BusinessCalendar) {
        let cal = effective(b, cal);
        self.first_response_due_at = cal.add(opened, b.first_response);
        self.resolution_due_at = cal.add(opened, b.resolution + Duration::seconds(self.paused_secs));
    }

    /// The resolution clock's state at `now` for a case in `status`.
    pub fn resolution_state(
        &self,
        status: CaseStatus,
        now: DateTime<Utc>,
        b: &SlaBudget,
        cal: &BusinessCalendar,
    ) -> SlaState {
        if !status.is_open() {
            return SlaState::Stopped;
        }
        if self.paused_since.is_some() {
            return SlaState::Paused;
        }
        let cal = effective(b, cal);
        if now >= self.resolution_due_at {
            return SlaState::Breached;
        }
        let left = cal.between(now, self.resolution_due_at);
        if (left.num_seconds() as f64) < b.resolution.num_seconds() as f64 * WARN_SHARE {
            SlaState::Warning
        } else {
            SlaState::Running
        }
    }

    /// The first-response clock's state at `now`, given when it was answered.
    pub fn first_response_state(&self, answered: Option<DateTime<Utc>>, now: DateTime<Utc>) -> SlaState {
        match answered {
            Some(_) => SlaState::Stopped,
            None if now >= self.first_response_due_at => SlaState::Breached,
            None => SlaState::Running,
        }
    }

    /// Working time left until resolution is due (negative when breached; frozen while paused).
    pub fn time_left(&self, now: DateTime<Utc>, b: &SlaBudget, cal: &BusinessCalendar) -> Duration {
        let cal = effective(b, cal);
        let at = self.paused_since.unwrap_or(now);
        if at >= self.resolution_due_at {
            -(at - self.resolution_due_at)
        } else {
            cal.between(at, self.resolution_due_at)
        }
    }
}

fn effective<'a>(b: &SlaBudget, cal: &'a BusinessCalendar) -> std::borrow::Cow<'a, BusinessCalendar> {
    if b.around_the_clock {
        std::borrow::Cow::Owned(BusinessCalendar::around_the_clock())
    } else {
        std::borrow::Cow::Borrowed(cal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cal() -> BusinessCalendar {
        BusinessCalendar::parse("Europe/Berlin", "mon-fri 08:00-18:00", &[]).unwrap()
    }

    #[test]
    fn waiting_pauses_and_moves_the_due_time() {
        let b = SlaBudget::default_for(Priority::High); // 4 h / 20 h
        // Monday 2026-12-07 09:00 Berlin.
        let opened = utc("2026-12-07T08:00:00Z");
        let mut c = SlaClock::start(opened, &b, &cal());
        assert_eq!(c.first_response_due_at, utc("2026-12-07T12:00:00Z"));
        // 20 working hours: 9 on Monday, 10 on Tuesday, 1 on Wednesday -> Wed 09:00.
        assert_eq!(c.resolution_due_at, utc("2026-12-09T08:00:00Z"));
        // Waiting on the customer from Monday 10:00 to Tuesday 10:00 Berlin: 10 working hours.
        c.on_status(opened, CaseStatus::WaitingCustomer, utc("2026-12-07T09:00:00Z"), &b, &cal());
        assert_eq!(
            c.resolution_state(CaseStatus::WaitingCustomer, utc("2026-12-10T00:00:00Z"), &b, &cal()),
            SlaState::Paused
        );
        c.on_status(opened, CaseStatus::Investigating, utc("2026-12-08T09:00:00Z"), &b, &cal());
        assert_eq!(c.paused_secs, 10 * 3600);
        assert_eq!(c.resolution_due_at, utc("2026-12-10T08:00:00Z"));
        assert_eq!(c.paused_since, None);
    }

    #[test]
    fn states_warn_then_breach() {
        let b = SlaBudget::default_for(Priority::Urgent); // 24 h around the clock
        let opened = utc("2026-12-05T00:00:00Z");
        let c = SlaClock::start(opened, &b, &cal());
        let st = CaseStatus::Investigating;
        assert_eq!(c.resolution_state(st, utc("2026-12-05T12:00:00Z"), &b, &cal()), SlaState::Running);
        assert_eq!(c.resolution_state(st, utc("2026-12-05T20:00:00Z"), &b, &cal()), SlaState::Warning);
        assert_eq!(c.resolution_state(st, utc("2026-12-06T00:00:00Z"), &b, &cal()), SlaState::Breached);
        assert_eq!(c.resolution_state(CaseStatus::Closed, utc("2026-12-07T00:00:00Z"), &b, &cal()), SlaState::Stopped);
        assert_eq!(c.time_left(utc("2026-12-06T02:00:00Z"), &b, &cal()), -Duration::hours(2));
        assert_eq!(c.first_response_state(None, utc("2026-12-05T01:00:00Z")), SlaState::Breached);
    }
}
