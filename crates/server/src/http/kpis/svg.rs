//! Charts drawn on the server as inline SVG: a line per period with the previous period dashed
//! beside it, and sparklines for tiles and tables. Nothing is loaded from elsewhere; every text
//! in them is escaped here.

use riskdesk_domain::kpis::Unit;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn show(v: Option<f64>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "–".into(),
        (Some(x), Unit::Ratio) => {
            if x * 100.0 >= 10.0 { format!("{:.1} %", x * 100.0) } else { format!("{:.2} %", x * 100.0) }
        }
        (Some(x), Unit::Minutes) if x >= 2.0 * 24.0 * 60.0 => format!("{:.1} d", x / 1440.0),
        (Some(x), Unit::Minutes) if x >= 120.0 => format!("{:.1} h", x / 60.0),
        (Some(x), Unit::Minutes) => format!("{x:.0} min"),
        (Some(x), Unit::Hours) => format!("{x:.1} h"),
        (Some(x), Unit::Points) => format!("{x:.1}"),
    }
}

/// A line chart of `current` (labels and values) with `previous` dashed behind it.
pub fn line_chart(labels: &[String], current: &[Option<f64>], previous: &[Option<f64>], unit: Unit, title: &str) -> String {
    let (w, h, left, right, top, bottom) = (680.0, 220.0, 64.0, 12.0, 14.0, 40.0);
    let n = current.len().max(1);
    let max = current.iter().chain(previous).flatten().fold(0.0f64, |m, v| m.max(*v));
    let max = if max <= 0.0 { 1.0 } else { max * 1.15 };
    let x = |i: usize| if n == 1 { left + (w - left - right) / 2.0 } else { left + (w - left - right) * i as f64 / (n - 1) as f64 };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line x1="{left}" y1="{yy:.1}" x2="{}" y2="{yy:.1}" class="grid"/><text x="{}" y="{:.1}" class="axis" text-anchor="end">{}</text>"#,
            w - right,
            left - 6.0,
            yy + 4.0,
            esc(&show(Some(v), unit))
        );
    }
    let step = (n / 8).max(1);
    for (i, l) in labels.iter().enumerate() {
        if i % step == 0 || i + 1 == n {
            let _ = write!(s, r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{}</text>"#, x(i), h - bottom + 16.0, esc(l));
        }
    }
    let path = |vals: &[Option<f64>], class: &str, s: &mut String| {
        let mut d = String::new();
        let mut pen = false;
        for (i, v) in vals.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(d, "{}{:.1},{:.1} ", if pen { "L" } else { "M" }, x(i), y(*v));
                    pen = true;
                }
                None => pen = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(s, r#"<path d="{}" class="{class}" fill="none"/>"#, d.trim_end());
        }
    };
    path(previous, "prev", &mut s);
    path(current, "cur", &mut s);
    for (i, v) in current.iter().enumerate() {
        if let Some(v) = v {
            let label = labels.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" class="cur"><title>{}: {}</title></circle>"#,
                x(i),
                y(*v),
                esc(label),
                esc(&show(Some(*v), unit))
            );
        }
    }
    let _ = write!(
        s,
        r#"<g class="legend"><line x1="{left}" y1="{ly}" x2="{lx}" y2="{ly}" class="cur"/><text x="{tx}" y="{ty}">this period</text><line x1="{px}" y1="{ly}" x2="{px2}" y2="{ly}" class="prev"/><text x="{ptx}" y="{ty}">previous period</text></g></svg>"#,
        ly = h - 8.0,
        lx = left + 20.0,
        tx = left + 24.0,
        ty = h - 4.0,
        px = left + 120.0,
        px2 = left + 140.0,
        ptx = left + 144.0
    );
    s
}

/// A small line of values, for a tile or a table cell.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let (w, h) = (120.0, 28.0);
    let max = values.iter().flatten().fold(0.0f64, |m, v| m.max(*v));
    let max = if max <= 0.0 { 1.0 } else { max };
    let n = values.len();
    if n < 2 {
        return String::new();
    }
    let mut d = String::new();
    let mut pen = false;
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            let x = w * i as f64 / (n - 1) as f64;
            let y = 2.0 + (h - 4.0) * (1.0 - v / max);
            let _ = write!(d, "{}{x:.1},{y:.1} ", if pen { "L" } else { "M" });
            pen = true;
        } else {
            pen = false;
        }
    }
    format!(
        r#"<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true" xmlns="http://www.w3.org/2000/svg"><path d="{}" fill="none"/></svg>"#,
        d.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_their_text_and_skip_gaps() {
        let svg = line_chart(&["<W1>".into(), "W2".into()], &[Some(0.1), None], &[None, Some(0.2)], Unit::Ratio, "a \"b\"");
        assert!(svg.contains("&lt;W1&gt;") && !svg.contains("<W1>"));
        assert!(svg.contains("a &quot;b&quot;"));
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(sparkline(&[Some(1.0)]).is_empty());
        assert!(sparkline(&[Some(1.0), Some(2.0), None, Some(0.5)]).contains("M"));
    }
}
