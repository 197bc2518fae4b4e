//! Taking a person's values out of a record. A stored document (an order or event body, a
//! provider's notification) loses the fields that hold personal data wherever they sit, and any
//! other text that contains one of the person's known values (their e-mail in a note, their name
//! in a transcript) has that value replaced. What was taken is returned, so that a record a
//! retention class keeps can be kept, restricted, apart from the live data.

use serde_json::{Map, Value};

/// Field names that hold personal data in the documents riskdesk stores (intake-v1 orders and
/// events, provider notifications). Country and money stay: they are not about one person.
pub const PERSONAL_KEYS: &[&str] = &[
    "email",
    "new_email",
    "old_email",
    "phone",
    "new_phone",
    "name",
    "first_name",
    "last_name",
    "holder_name",
    "shopper_name",
    "shopperEmail",
    "shopperName",
    "line1",
    "line2",
    "postal_code",
    "city",
    "ip",
    "shopperIP",
    "iban",
    "user_agent",
    "device_id",
    "fingerprint",
    "last4",
    "wallet_id",
];

/// What replaces a value in text.
pub const ERASED: &str = "[erased]";

/// The values known to be the person's (e-mail, phone, names, address lines, IP, IBAN),
/// matched case-insensitively. Values shorter than 4 characters are left out: they would
/// match too much ordinary text.
#[derive(Debug, Clone, Default)]
pub struct Known {
    values: Vec<String>,
}

impl Known {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(values: I) -> Self {
        let mut v: Vec<String> =
            values.into_iter().map(|s| s.as_ref().trim().to_lowercase()).filter(|s| s.chars().count() >= 4).collect();
        // Longest first, so that "anna beispiel" goes before "anna".
        v.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        v.dedup();
        Self { values: v }
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Adds the personal values found in a document (its personal fields' texts).
    pub fn add_from(&mut self, doc: &Value) {
        let mut found = Vec::new();
        collect(doc, &mut found);
        let mut all = std::mem::take(&mut self.values);
        all.extend(found);
        *self = Self::new(all);
    }
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(s) if PERSONAL_KEYS.contains(&k.as_str()) => out.push(s.clone()),
                    _ => collect(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}

/// `text` with every known value replaced by [`ERASED`]; none when nothing matched.
pub fn redact(text: &str, known: &Known) -> Option<String> {
    if known.values.is_empty() {
        return None;
    }
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths (rare scripts); match on the lower-cased text only
    // when the lengths agree, else fall back to exact matching.
    let same = lower.len() == text.len();
    let hay = if same { lower.as_str() } else { text };
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for v in &known.values {
        let mut from = 0;
        while let Some(i) = hay[from..].find(v.as_str()) {
            let (s, e) = (from + i, from + i + v.len());
            if !spans.iter().any(|&(a, b)| s < b && a < e) {
                spans.push((s, e));
            }
            from = e;
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        out.push_str(&text[at..s]);
        out.push_str(ERASED);
        at = e;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Takes the personal values out of a document in place; returns what was taken (path and
/// value), empty when the document held none.
pub fn scrub(doc: &mut Value, known: &Known) -> Vec<(String, Value)> {
    let mut taken = Vec::new();
    // One path buffer for the walk: a path is copied only for what is taken (sweeps scrub
    // millions of documents, most of whose fields stay).
    let mut path = String::new();
    walk(doc, &mut path, known, &mut taken);
    taken
}

fn walk(v: &mut Value, path: &mut String, known: &Known, taken: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => walk_map(m, path, known, taken),
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                let len = path.len();
                path.push('[');
                path.push_str(&i.to_string());
                path.push(']');
                walk(x, path, known, taken);
                path.truncate(len);
            }
        }
        Value::String(s) => {
            if let Some(r) = redact(s, known) {
                taken.push((path.clone(), Value::String(std::mem::replace(s, r))));
            }
        }
        _ => {}
    }
}

fn walk_map(m: &mut Map<String, Value>, path: &mut String, known: &Known, taken: &mut Vec<(String, Value)>) {
    for (k, x) in m.iter_mut() {
        let len = path.len();
        if len > 0 {
            path.push('.');
        }
        path.push_str(k);
        if PERSONAL_KEYS.contains(&k.as_str()) && !x.is_null() && !x.is_object() && !x.is_array() {
            taken.push((path.clone(), std::mem::replace(x, Value::Null)));
        } else {
            walk(x, path, known, taken);
        }
        path.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn personal_fields_go_and_are_returned() {
        let mut order = json!({
            "order_id": "A-1", "customer": {"customer_id": "C-77", "email": "anna@example.com", "name": "Anna Beispiel"},
            "billing_address": {"name": "Anna Beispiel", "line1": "Torstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
            "device": {"device_id": "dev-9f8", "ip": "203.0.113.7"},
            "payment": {"method": "card", "iban": null},
            "attributes": {"gift_note": "For Anna Beispiel, love"}
        });
        let mut known = Known::default();
        known.add_from(&order);
        let taken = scrub(&mut order, &known);
        let text = order.to_string();
        for v in ["anna@example.com", "Anna Beispiel", "Torstr", "10115", "Berlin", "dev-9f8", "203.0.113.7"] {
            assert!(!text.contains(v), "{v} left in {text}");
        }
        assert_eq!(order["billing_address"]["country"], "DE");
        assert_eq!(order["customer"]["customer_id"], "C-77");
        assert_eq!(order["attributes"]["gift_note"], "For [erased], love");
        assert!(taken.iter().any(|(p, v)| p == "customer.email" && v == "anna@example.com"));
        assert!(taken.iter().any(|(p, v)| p == "attributes.gift_note" && v == "For Anna Beispiel, love"));
        assert!(!taken.iter().any(|(p, _)| p == "payment.iban"), "nulls are not taken");
    }

    #[test]
    fn text_redaction_is_case_insensitive_and_longest_first() {
        let known = Known::new(["Anna", "Anna Beispiel", "ANNA@example.com", "de"]);
        assert_eq!(
            redact("Called anna beispiel, mail anna@EXAMPLE.com", &known).unwrap(),
            "Called [erased], mail [erased]"
        );
        assert_eq!(redact("nothing here", &known), None);
        // Two-letter values are not matched.
        assert_eq!(redact("delivered", &Known::new(["de"])), None);
    }

    #[test]
    fn non_ascii_text_is_redacted_exactly() {
        let known = Known::new(["Zoë Müller"]);
        assert_eq!(redact("Kundin Zoë Müller rief an", &known).unwrap(), "Kundin [erased] rief an");
    }
}
