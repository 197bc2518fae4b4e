//! The evidence pack as a PDF: plain pages of text in a base font (Helvetica, WinAnsi), so
//! nothing is embedded and every reader opens it. pdf-writer writes the file structure.

use super::evidence::EvidenceView;
use chrono::{DateTime, Utc};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use riskdesk_store::disputes::DisputeRecord;

const LINES_PER_PAGE: usize = 58;
const WIDTH: usize = 95;

/// Text in WinAnsi bytes: Latin-1 maps as is, the euro sign to 0x80, anything else to `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '€' => 0x80,
            '–' => 0x96,
            '—' => 0x97,
            '…' => 0x85,
            '“' => 0x93,
            '”' => 0x94,
            '’' => 0x92,
            c if (c as u32) < 0x80 && !c.is_control() => c as u8,
            c if (0xA0..=0xFF).contains(&(c as u32)) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Breaks a text into lines of at most `WIDTH` characters at spaces.
fn wrap(text: &str, indent: &str, out: &mut Vec<String>) {
    for para in text.lines() {
        let mut line = String::from(indent);
        for word in para.split_whitespace() {
            if line.chars().count() + word.chars().count() + 1 > WIDTH && !line.trim().is_empty() {
                out.push(std::mem::replace(&mut line, String::from(indent)));
            }
            if !line.trim().is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
}

pub(crate) fn pack_pdf(r: &DisputeRecord, v: &EvidenceView, json: &serde_json::Value, now: DateTime<Utc>) -> Vec<u8> {
    let mut lines = vec![format!("Dispute evidence — {}", r.dispute_id), String::new()];
    let amount = riskdesk_domain::money::display(r.amount_minor, &r.currency);
    for (k, val) in [
        ("Provider", format!("{} {}", r.provider, r.provider_ref)),
        ("Order", r.order_id.clone().unwrap_or_else(|| "—".into())),
        ("Stage / status", format!("{} / {}", r.stage, r.status)),
        ("Reason", format!("{} ({})", r.reason_code.as_deref().unwrap_or("—"), r.reason_family)),
        ("Amount", amount),
        ("Respond by", r.due_by.map_or("—".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())),
    ] {
        lines.push(format!("{k}: {val}"));
    }
    lines.push(String::new());
    lines.push(format!("Checklist ({} of {} satisfied)", v.satisfied, v.checklist.len()));
    let evidence = json.get("evidence").and_then(|e| e.as_object());
    for i in &v.checklist {
        let mark = if i.state == "missing" { "[ ]" } else { "[x]" };
        lines.push(format!("{mark} {}", i.item.label));
        if let Some(t) =
            evidence.and_then(|e| e.get(i.item.field)).and_then(|t| t.as_str()).filter(|_| i.state != "missing")
        {
            wrap(t, "      ", &mut lines);
        }
    }
    if !v.ce3_candidates.is_empty() {
        lines.push(String::new());
        lines.push(format!("Compelling Evidence 3.0 ({})", if v.ce3_eligible { "eligible" } else { "not eligible" }));
        for c in &v.ce3_candidates {
            let mark = if c.qualifies { "[x]" } else { "[ ]" };
            wrap(&format!("{mark} {} {}: {}", c.order_id, c.placed_at.format("%Y-%m-%d"), c.why), "", &mut lines);
        }
    }
    lines.push(String::new());
    lines.push(format!("Prepared {}", now.format("%Y-%m-%d %H:%M UTC")));
    render(&lines)
}

/// Lines of text as a PDF (long lines wrapped): also the KPI reports' PDF.
pub(crate) fn render_text(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        if l.chars().count() <= WIDTH { out.push(l.clone()) } else { wrap(l, "", &mut out) }
    }
    render(&out)
}

fn render(lines: &[String]) -> Vec<u8> {
    let pages: Vec<&[String]> = lines.chunks(LINES_PER_PAGE).collect();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let font_name = Name(b"F1");
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(4 + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages.len() as i32);
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (i, chunk) in pages.iter().enumerate() {
        let content_id = Ref::new(5 + 2 * i as i32);
        let mut page = pdf.page(page_ids[i]);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree);
        page.contents(content_id);
        page.resources().fonts().pair(font_name, font);
        page.finish();
        let mut c = Content::new();
        c.begin_text();
        c.set_font(font_name, 10.0);
        c.set_leading(13.0);
        c.next_line(50.0, 792.0);
        for (n, l) in chunk.iter().enumerate() {
            if n == 0 && i == 0 {
                c.set_font(font_name, 14.0);
                c.show(Str(&win_ansi(l)));
                c.set_font(font_name, 10.0);
            } else {
                c.show(Str(&win_ansi(l)));
            }
            c.next_line_using_leading();
        }
        c.end_text();
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_makes_several_pages() {
        let lines: Vec<String> = (0..130).map(|i| format!("line {i} 249,90 €")).collect();
        let pdf = render(&lines);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 3"), "three pages");
        assert!(text.contains("/WinAnsiEncoding"));
        assert_eq!(win_ansi("€ü"), vec![0x80, 0xFC]);
    }

    #[test]
    fn wrapping_keeps_words() {
        let mut out = Vec::new();
        wrap(&"word ".repeat(40), "  ", &mut out);
        assert!(out.len() > 1);
        assert!(out.iter().all(|l| l.chars().count() <= WIDTH));
    }
}
