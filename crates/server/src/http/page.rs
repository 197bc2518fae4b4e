//! What every page shares: the navigation bar (each area contributes its own link) and the
//! formatting of amounts and times as analysts read them.

use chrono::{DateTime, Utc};
use riskdesk_service::Analyst;

/// A link of the navigation bar.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    /// The area's name, matched against the page's `active`.
    pub area: &'static str,
    /// An access key, when the area has one.
    pub key: &'static str,
}

/// What the navigation bar needs on every page.
pub struct Nav {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub active: &'static str,
    pub links: Vec<NavLink>,
    /// The header's search box (people who see orders).
    pub search: bool,
    /// The viewer's time zone: theirs, else the installation's (`workspace.time_zone`).
    pub tz: chrono_tz::Tz,
}

/// A time of any offset, for [`Nav::when`].
pub trait AsUtc {
    fn utc(&self) -> DateTime<Utc>;
}

impl<Z: chrono::TimeZone> AsUtc for DateTime<Z> {
    fn utc(&self) -> DateTime<Utc> {
        self.with_timezone(&Utc)
    }
}

impl<T: AsUtc + ?Sized> AsUtc for &T {
    fn utc(&self) -> DateTime<Utc> {
        (**self).utc()
    }
}

impl Nav {
    pub fn of(a: &Analyst, active: &'static str) -> Self {
        Self {
            name: a.user().display_name.clone(),
            role: a.role().label(),
            csrf: a.csrf().to_owned(),
            active,
            links: super::nav_links(a),
            search: a.grant::<riskdesk_service::OrderViewer>().is_some(),
            tz: a.time_zone(),
        }
    }

    /// A time as the viewer reads it: in their zone, with UTC on hover (`<time>`, markup of
    /// our own only, for `|safe`).
    pub fn when(&self, t: impl AsUtc) -> String {
        let t = t.utc();
        format!(
            "<time datetime=\"{}\" title=\"{} UTC\">{}</time>",
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            t.format("%Y-%m-%d %H:%M"),
            t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M")
        )
    }

    /// The zone's name, for a page's legend.
    pub fn zone(&self) -> &'static str {
        self.tz.name()
    }
}

/// An amount as analysts read it, through the domain's `Money` (the currency's own decimals).
pub fn money(minor: i64, currency: &str) -> String {
    riskdesk_domain::money::display(minor, currency)
}

pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let m = (now - t).num_minutes();
    match m {
        m if m < 0 => format!("in {} min", -m),
        0..=59 => format!("{m} min ago"),
        60..=2879 => format!("{} h ago", m / 60),
        _ => format!("{} d ago", m / 1440),
    }
}

pub fn until(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let m = (t - now).num_minutes();
    if m < 0 {
        let late = -m;
        if late < 120 {
            format!("{late} min late")
        } else if late < 2880 {
            format!("{} h late", late / 60)
        } else {
            format!("{} d late", late / 1440)
        }
    } else if m < 120 {
        format!("{m} min left")
    } else {
        format!("{} h left", m / 60)
    }
}

/// A time in the viewer's zone, as text (where markup cannot go; see [`Nav::when`]).
pub fn fmt_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub fn start_of_today(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc())
}

pub fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|x| x.trim().to_owned()).filter(|x| !x.is_empty())
}

/// A note as stored: trimmed, at most 1,000 characters, `None` when empty.
pub fn note(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.chars().take(1000).collect())
}

pub fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1} %", v * 100.0)).unwrap_or_else(|| "—".into())
}

/// A day as `YYYY-MM-DD`, at midnight UTC.
pub fn day(s: &Option<String>, field: &str) -> Result<Option<DateTime<Utc>>, super::error::ApiError> {
    match s.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => ymd(d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Some(t.and_utc()))
            .ok_or_else(|| super::error::ApiError::invalid(field, "a date as YYYY-MM-DD")),
    }
}

/// A day written exactly `YYYY-MM-DD` (four-digit year, two-digit month and day), as the API
/// documents its date parameters and a date input sends them.
pub fn ymd(s: &str) -> Option<chrono::NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    shaped.then(|| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()).flatten()
}

/// What a form just did, carried through POST/redirect/GET in the query string: a reload of the
/// page shows it again without posting again. `name` and `id` say whom or what it concerned.
#[derive(serde::Deserialize, Default)]
pub struct Flash {
    pub done: Option<String>,
    /// Why the form was refused, for pages that show it beside the form.
    pub error: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
}

impl Flash {
    /// A 303 to `path` carrying `done` (and `name` / `id` when given).
    pub fn redirect(path: &str, done: &str, name: Option<&str>, id: Option<&str>) -> axum::response::Response {
        use axum::response::IntoResponse;
        let mut to = format!("{path}?done={done}");
        if let Some(n) = name {
            to.push_str(&format!("&name={}", super::session::urlencode(n)));
        }
        if let Some(i) = id {
            to.push_str(&format!("&id={}", super::session::urlencode(i)));
        }
        axum::response::Redirect::to(&to).into_response()
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("")
    }
}
