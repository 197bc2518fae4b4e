//! The cases area's settings (`[cases]` in the configuration): the business calendar (per team
//! where teams work in other countries), SLA budgets per kind and priority, the goodwill amount
//! above which a refund needs four eyes, and the screening score that opens a case by itself.

use riskdesk_domain::cases::calendar::BusinessCalendar;
use riskdesk_domain::cases::sla::SlaBudget;
use riskdesk_domain::cases::{CaseKind, Priority};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A calendar as configured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// An IANA time zone, `Europe/Berlin`.
    pub timezone: String,
    /// Working hours, `mon-fri 08:00-18:00` (several ranges separated by `,`).
    pub hours: String,
    /// Public holidays, ISO dates.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Budgets of one kind (or of every kind) at one priority, in hours.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    pub first_response_hours: f64,
    pub resolution_hours: f64,
    #[serde(default)]
    pub around_the_clock: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CasesConfig {
    /// The calendar every team works by unless `team_calendars` names another.
    pub calendar: CalendarConfig,
    /// Teams working by another country's calendar: team code to calendar.
    pub team_calendars: BTreeMap<String, CalendarConfig>,
    /// Overrides of the default budgets, keyed `<priority>` or `<kind>.<priority>`.
    pub budgets: BTreeMap<String, BudgetConfig>,
    /// A goodwill refund of this much or more (major units) needs a second person.
    pub goodwill_four_eyes_from: i64,
    /// Orders sent to review with at least this score open a fraud investigation of their
    /// customer (one open case per customer); 0 switches it off.
    pub auto_open_score: i64,
}

/// German national public holidays (2026-2027), the default calendar's.
const DE_HOLIDAYS: &[&str] = &[
    "2026-01-01",
    "2026-04-03",
    "2026-04-06",
    "2026-05-01",
    "2026-05-14",
    "2026-05-25",
    "2026-10-03",
    "2026-12-25",
    "2026-12-26",
    "2027-01-01",
    "2027-03-26",
    "2027-03-29",
    "2027-05-01",
    "2027-05-06",
    "2027-05-17",
    "2027-10-03",
    "2027-12-25",
    "2027-12-26",
];

impl Default for CasesConfig {
    fn default() -> Self {
        Self {
            calendar: CalendarConfig {
                timezone: "Europe/Berlin".into(),
                hours: "mon-fri 08:00-18:00".into(),
                holidays: DE_HOLIDAYS.iter().map(|s| s.to_string()).collect(),
            },
            team_calendars: BTreeMap::new(),
            budgets: BTreeMap::new(),
            goodwill_four_eyes_from: 100,
            auto_open_score: 90,
        }
    }
}

/// The settings, checked and ready to use.
#[derive(Debug, Clone)]
pub struct CaseSettings {
    calendar: BusinessCalendar,
    team_calendars: HashMap<String, BusinessCalendar>,
    budgets: HashMap<(Option<String>, Priority), SlaBudget>,
    pub goodwill_four_eyes_from: i64,
    pub auto_open_score: i64,
}

impl Default for CaseSettings {
    fn default() -> Self {
        CasesConfig::default().resolve().expect("the default case settings are valid")
    }
}

impl CasesConfig {
    /// Checks every value; an error names the setting.
    pub fn resolve(&self) -> Result<CaseSettings, String> {
        let cal = |c: &CalendarConfig, at: &str| {
            BusinessCalendar::parse(&c.timezone, &c.hours, &c.holidays).map_err(|e| format!("cases.{at}{e}"))
        };
        let calendar = cal(&self.calendar, "calendar.")?;
        let mut team_calendars = HashMap::new();
        for (team, c) in &self.team_calendars {
            if riskdesk_domain::cases::team_label(team).is_none() {
                return Err(format!("cases.team_calendars: {team:?} is not a team"));
            }
            team_calendars.insert(team.clone(), cal(c, &format!("team_calendars.{team}."))?);
        }
        let mut budgets = HashMap::new();
        for (key, b) in &self.budgets {
            let (kind, prio) = match key.split_once('.') {
                Some((k, p)) => (Some(k), p),
                None => (None, key.as_str()),
            };
            if let Some(k) = kind
                && CaseKind::parse(k).is_none()
            {
                return Err(format!("cases.budgets: {k:?} is not a kind of case"));
            }
            let p = Priority::parse(prio).ok_or_else(|| format!("cases.budgets: {prio:?} is not a priority"))?;
            if !(b.first_response_hours > 0.0 && b.resolution_hours >= b.first_response_hours) {
                return Err(format!("cases.budgets.{key}: hours must be positive, resolution at least first response"));
            }
            let d = |h: f64| chrono::Duration::seconds((h * 3600.0).round() as i64);
            budgets.insert(
                (kind.map(str::to_owned), p),
                SlaBudget {
                    first_response: d(b.first_response_hours),
                    resolution: d(b.resolution_hours),
                    around_the_clock: b.around_the_clock,
                },
            );
        }
        if self.goodwill_four_eyes_from < 0 || self.auto_open_score < 0 {
            return Err("cases.goodwill_four_eyes_from and cases.auto_open_score must not be negative".into());
        }
        Ok(CaseSettings {
            calendar,
            team_calendars,
            budgets,
            goodwill_four_eyes_from: self.goodwill_four_eyes_from,
            auto_open_score: self.auto_open_score,
        })
    }
}

impl CaseSettings {
    pub fn calendar(&self, team: &str) -> &BusinessCalendar {
        self.team_calendars.get(team).unwrap_or(&self.calendar)
    }

    /// The budget of a kind at a priority: the kind's override, the priority's, or the default.
    pub fn budget(&self, kind: &str, p: Priority) -> SlaBudget {
        self.budgets
            .get(&(Some(kind.to_owned()), p))
            .or_else(|| self.budgets.get(&(None, p)))
            .copied()
            .unwrap_or_else(|| SlaBudget::default_for(p))
    }
}
