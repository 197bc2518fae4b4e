//! Dispute reports as the providers export them, and riskdesk's own: the format is told by the
//! header line, and each line becomes the event a webhook would have sent, so a report and the
//! webhooks of the same dispute meet on one dispute (the provider's dispute reference).
//!
//! - riskdesk: `dispute_ref, payment_ref, order_id, stage, status, reason_code, network,
//!   amount, currency, due_by, opened_at` (RFC 3339 times).
//! - Adyen's dispute transaction details report (`dispute_report_YYYY_MM_DD.csv`): `Record Type`,
//!   `Dispute PSP Reference`, `Psp Reference` (the payment), `Merchant Reference`, `Dispute
//!   Amount`, `Dispute Currency`, `Record Date` with `Record Date TimeZone`, the RFI / CB / NoF
//!   reason and scheme codes, `Dispute End Date` (the defence deadline).
//! - Stripe's Disputes export: `id`, `Status`, `Reason`, `Dispute Amount`, `Dispute Currency`,
//!   `Dispute Created (UTC)`, `Due By (UTC)`, `Charge ID`, `Payment Intent`, `Card Brand`.
//!
//! Every line is checked first; one bad line stores nothing and is named with its number.

use crate::{ServiceError, ServiceResult};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use riskdesk_domain::disputes::{self as d, DisputeEvent, Network, Observed, Provider, Stage, Status};

/// riskdesk's own columns.
pub const REPORT_COLUMNS: &[&str] = &[
    "dispute_ref",
    "payment_ref",
    "order_id",
    "stage",
    "status",
    "reason_code",
    "network",
    "amount",
    "currency",
    "due_by",
    "opened_at",
];

const MAX_LINES: usize = 100_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Riskdesk,
    Adyen,
    Stripe,
}

fn bad(line: usize, field: &str, msg: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(format!("line {line}: {field}: {}", msg.into()))
}

/// One line with its header: fields by name, trimmed, empty as absent.
struct Line<'a> {
    no: usize,
    headers: &'a csv::StringRecord,
    rec: &'a csv::StringRecord,
}

impl Line<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let c = self.headers.iter().position(|h| h == name)?;
        self.rec.get(c).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
    }

    fn need(&self, name: &str) -> ServiceResult<String> {
        self.get(name).ok_or_else(|| bad(self.no, name, "is required"))
    }

    fn money(&self, amount: &str, currency: &str) -> ServiceResult<riskdesk_domain::Money> {
        // Stripe writes currencies in lower case.
        let (a, c) = (self.need(amount)?, self.need(currency)?.to_ascii_uppercase());
        riskdesk_domain::Money::parse(&a, &c, amount).map_err(|e| bad(self.no, &e.field, e.detail))
    }

    fn raw(&self) -> String {
        self.rec.iter().collect::<Vec<_>>().join(",")
    }
}

/// The events of a report, each with its line as the raw form.
pub fn parse(text: &str, now: DateTime<Utc>) -> ServiceResult<Vec<(DisputeEvent, String)>> {
    let mut r = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = r.headers().map_err(|e| ServiceError::Invalid(format!("line 1: {e}")))?.clone();
    let has = |h: &str| headers.iter().any(|x| x == h);
    let format = if has("Record Type") && has("Dispute PSP Reference") {
        Format::Adyen
    } else if has("id") && has("Status") && has("Dispute Created (UTC)") {
        Format::Stripe
    } else {
        for required in ["dispute_ref", "status", "amount", "currency", "opened_at"] {
            if !has(required) {
                return Err(ServiceError::Invalid(format!(
                    "line 1: the column {required} is missing (riskdesk's columns: {}; or an Adyen dispute report, or a Stripe disputes export)",
                    REPORT_COLUMNS.join(", ")
                )));
            }
        }
        Format::Riskdesk
    };
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let no = i + 2;
        if out.len() >= MAX_LINES {
            return Err(bad(no, "file", "at most 100,000 lines per import"));
        }
        let rec = rec.map_err(|e| bad(no, "line", e.to_string()))?;
        let line = Line { no, headers: &headers, rec: &rec };
        let e = match format {
            Format::Riskdesk => Some(riskdesk_line(&line)?),
            Format::Adyen => adyen_line(&line)?,
            Format::Stripe => Some(stripe_line(&line)?),
        };
        let Some(e) = e else { continue };
        if e.occurred_at > now + chrono::Duration::days(1) {
            return Err(bad(no, "date", "is in the future"));
        }
        out.push((e, line.raw()));
    }
    Ok(out)
}

fn riskdesk_line(l: &Line<'_>) -> ServiceResult<DisputeEvent> {
    let dispute_ref = l.need("dispute_ref")?;
    if dispute_ref.len() > 255 {
        return Err(bad(l.no, "dispute_ref", "is longer than 255 characters"));
    }
    let status = l.need("status")?;
    let status =
        Status::parse(&status).ok_or_else(|| bad(l.no, "status", format!("must be one of {}", Status::codes())))?;
    let stage = match l.get("stage") {
        None => Stage::Chargeback,
        Some(s) => Stage::parse(&s).ok_or_else(|| bad(l.no, "stage", format!("must be one of {}", Stage::codes())))?,
    };
    let money = l.money("amount", "currency")?;
    let time = |name: &str| -> ServiceResult<Option<DateTime<Utc>>> {
        l.get(name)
            .map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.to_utc())
                    .map_err(|_| bad(l.no, name, "must be an RFC 3339 date-time"))
            })
            .transpose()
    };
    let opened_at = time("opened_at")?.ok_or_else(|| bad(l.no, "opened_at", "is required"))?;
    Ok(DisputeEvent {
        provider: Provider::Import,
        dedupe_key: format!("{dispute_ref}:{}:{}", stage.as_str(), status.as_str()),
        provider_ref: dispute_ref,
        event_type: "report".into(),
        observed: Observed { stage: Some(stage), status: Some(status) },
        fraud_report: false,
        reason_code: l.get("reason_code"),
        network: l.get("network").map_or(Network::Other, |n| Network::from_brand(&n)),
        amount_minor: Some(money.minor),
        currency: Some(money.currency.code().to_owned()),
        due_by: time("due_by")?,
        occurred_at: opened_at,
        funds: None,
        order_hint: l.get("order_id"),
        payment_refs: l.get("payment_ref").into_iter().collect(),
    })
}

/// Adyen's `Record Type` (`NotificationOfChargeback`) as its webhook event code
/// (`NOTIFICATION_OF_CHARGEBACK`); the bookings "externally with info" are the plain ones.
fn adyen_code(record_type: &str) -> String {
    let base = record_type.trim().trim_end_matches("ExternallyWithInfo");
    let mut code = String::new();
    for (i, ch) in base.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            code.push('_');
        }
        code.push(ch.to_ascii_uppercase());
    }
    code.replace("PRE_ARBITRATION", "PREARBITRATION")
}

/// A date of Adyen's reports (`2026-06-01 10:00:00`) in the zone of its `… TimeZone` column
/// (an IANA name or an abbreviation such as CET, CEST, UTC).
fn adyen_time(l: &Line<'_>, column: &str) -> ServiceResult<Option<DateTime<Utc>>> {
    let Some(text) = l.get(column) else { return Ok(None) };
    let naive = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M"))
        .map_err(|_| bad(l.no, column, "must be a date-time like 2026-06-01 10:00:00"))?;
    let zone = l.get(&format!("{column} TimeZone")).unwrap_or_else(|| "UTC".into());
    let offset_hours = match zone.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "WET" | "Z" => Some(0),
        "CET" | "WEST" | "BST" => Some(1),
        "CEST" | "EET" => Some(2),
        "EEST" => Some(3),
        _ => None,
    };
    let t = match offset_hours {
        Some(h) => chrono::FixedOffset::east_opt(h * 3600)
            .and_then(|o| o.from_local_datetime(&naive).single())
            .map(|t| t.to_utc()),
        None => zone
            .parse::<chrono_tz::Tz>()
            .ok()
            .and_then(|tz| tz.from_local_datetime(&naive).earliest())
            .map(|t| t.to_utc()),
    };
    t.map(Some).ok_or_else(|| bad(l.no, &format!("{column} TimeZone"), format!("unknown time zone {zone}")))
}

fn adyen_line(l: &Line<'_>) -> ServiceResult<Option<DisputeEvent>> {
    let record = l.need("Record Type")?;
    let code = adyen_code(&record);
    let Some((observed, fraud_report)) = d::adyen::lifecycle(&code) else {
        // Record types that are not dispute events (fees, adjustments) are not disputes.
        return Ok(None);
    };
    let dispute = l.need("Dispute PSP Reference")?;
    let money = l.money("Dispute Amount", "Dispute Currency")?;
    let occurred_at = adyen_time(l, "Record Date")?.ok_or_else(|| bad(l.no, "Record Date", "is required"))?;
    let (reason, scheme) = [("CB", "Chargeback"), ("RFI", "Request"), ("NoF", "Fraud")]
        .iter()
        .find_map(|(p, _)| l.get(&format!("{p} Reason Code")).map(|r| (Some(r), l.get(&format!("{p} Scheme Code")))))
        .unwrap_or((None, None));
    let network = scheme.or_else(|| l.get("Payment Method")).map_or(Network::Other, |n| Network::from_brand(&n));
    let funds = match code.as_str() {
        "CHARGEBACK" => Some(-money.minor),
        "CHARGEBACK_REVERSED" => Some(money.minor),
        _ => None,
    };
    Ok(Some(DisputeEvent {
        provider: Provider::Adyen,
        dedupe_key: format!("{code}:{dispute}:{}", occurred_at.to_rfc3339()),
        provider_ref: dispute,
        event_type: code,
        observed,
        fraud_report,
        reason_code: reason,
        network,
        amount_minor: Some(money.minor),
        currency: Some(money.currency.code().to_owned()),
        due_by: adyen_time(l, "Dispute End Date")?,
        occurred_at,
        funds,
        order_hint: l.get("Merchant Reference"),
        payment_refs: l.get("Psp Reference").into_iter().collect(),
    }))
}

/// A UTC time of Stripe's exports (`2026-06-01 10:00` or with seconds, or RFC 3339).
fn stripe_time(l: &Line<'_>, column: &str) -> ServiceResult<Option<DateTime<Utc>>> {
    let Some(text) = l.get(column) else { return Ok(None) };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.to_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S").map(|n| n.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M").map(|n| n.and_utc()))
        .map(Some)
        .map_err(|_| bad(l.no, column, "must be a date-time like 2026-06-01 10:00"))
}

fn stripe_line(l: &Line<'_>) -> ServiceResult<DisputeEvent> {
    let dispute = l.need("id")?;
    let status_raw = l.need("Status")?;
    let (stage, status) = d::stripe::lifecycle(&status_raw)
        .ok_or_else(|| bad(l.no, "Status", format!("unknown Stripe dispute status {status_raw}")))?;
    let money = l.money("Dispute Amount", "Dispute Currency")?;
    let created =
        stripe_time(l, "Dispute Created (UTC)")?.ok_or_else(|| bad(l.no, "Dispute Created (UTC)", "is required"))?;
    let refs = ["Charge ID", "Payment Intent", "PaymentIntent ID"].iter().filter_map(|c| l.get(c)).collect();
    Ok(DisputeEvent {
        provider: Provider::Stripe,
        dedupe_key: format!("report:{dispute}:{}", status_raw),
        provider_ref: dispute,
        event_type: "report".into(),
        observed: Observed { stage: Some(stage), status: Some(status) },
        fraud_report: false,
        reason_code: l.get("Network Reason Code").or_else(|| l.get("Reason")),
        network: l.get("Card Brand").map_or(Network::Other, |b| Network::from_brand(&b)),
        amount_minor: Some(money.minor),
        currency: Some(money.currency.code().to_owned()),
        due_by: stripe_time(l, "Due By (UTC)")?,
        occurred_at: created,
        funds: None,
        order_hint: None,
        payment_refs: refs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn adyen_record_types_are_event_codes() {
        assert_eq!(adyen_code("NotificationOfChargeback"), "NOTIFICATION_OF_CHARGEBACK");
        assert_eq!(adyen_code("Chargeback"), "CHARGEBACK");
        assert_eq!(adyen_code("ChargebackReversedExternallyWithInfo"), "CHARGEBACK_REVERSED");
        assert_eq!(adyen_code("RequestForInformation"), "REQUEST_FOR_INFORMATION");
        assert_eq!(adyen_code("SecondChargeback"), "SECOND_CHARGEBACK");
        assert_eq!(adyen_code("PrearbitrationWon"), "PREARBITRATION_WON");
        assert_eq!(adyen_code("NotificationOfFraud"), "NOTIFICATION_OF_FRAUD");
    }

    const ADYEN_HEAD: &str = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Record Date,Record Date TimeZone,Dispute Currency,Dispute Amount,Record Type,Dispute PSP Reference,Dispute Reason,RFI Scheme Code,RFI Reason Code,CB Scheme Code,CB Reason Code,NoF Scheme Code,NoF Reason Code,Dispute End Date,Dispute End Date TimeZone";

    #[test]
    fn an_adyen_report_reads_as_its_notifications() {
        let text = format!(
            "{ADYEN_HEAD}\n\
             Shop,ShopDE,8815000000000001,A-1001,visa,2026-06-02 10:00:00,CEST,EUR,249.90,Chargeback,9915000000000001,Fraud,,,visa,10.4,,,2026-06-20 23:59:59,CEST\n\
             Shop,ShopDE,8815000000000002,A-1002,mc,2026-06-03 09:30:00,UTC,EUR,50.00,RequestForInformation,9915000000000002,Not received,mc,4855,,,,,,\n\
             Shop,ShopDE,8815000000000001,A-1001,visa,2026-06-25 10:00:00,Europe/Amsterdam,EUR,249.90,ChargebackReversed,9915000000000001,Fraud,,,visa,10.4,,,,\n\
             Shop,ShopDE,8815000000000003,A-1003,visa,2026-06-04 10:00:00,UTC,EUR,1.00,SomeFee,9915000000000003,,,,,,,,,\n"
        );
        let ev = parse(&text, now()).unwrap();
        assert_eq!(ev.len(), 3, "an unknown record type is not a dispute");
        let (cb, raw) = &ev[0];
        assert_eq!(
            (cb.provider, cb.provider_ref.as_str(), cb.event_type.as_str()),
            (Provider::Adyen, "9915000000000001", "CHARGEBACK")
        );
        assert_eq!(cb.occurred_at, Utc.with_ymd_and_hms(2026, 6, 2, 8, 0, 0).unwrap(), "CEST is UTC+2");
        assert_eq!(cb.due_by, Some(Utc.with_ymd_and_hms(2026, 6, 20, 21, 59, 59).unwrap()));
        assert_eq!((cb.amount_minor, cb.funds, cb.reason_code.as_deref()), (Some(24_990), Some(-24_990), Some("10.4")));
        assert_eq!((cb.network, cb.order_hint.as_deref()), (Network::Visa, Some("A-1001")));
        assert_eq!(cb.payment_refs, ["8815000000000001"]);
        assert!(raw.contains("9915000000000001"));
        let rfi = &ev[1].0;
        assert_eq!(
            (rfi.observed.stage, rfi.reason_code.as_deref(), rfi.network),
            (Some(Stage::Inquiry), Some("4855"), Network::Mastercard)
        );
        assert_eq!(ev[2].0.funds, Some(24_990));
        assert_eq!(ev[2].0.occurred_at, Utc.with_ymd_and_hms(2026, 6, 25, 8, 0, 0).unwrap(), "Amsterdam in summer");
    }

    #[test]
    fn a_stripe_export_reads_as_its_disputes() {
        let text = "id,Description,Dispute Created (UTC),Charge Created (UTC),Dispute Amount,Dispute Currency,Charge ID,Card Brand,Reason,Status,Due By (UTC),Payment Intent\n\
                    dp_1,,2026-06-02 10:00,2026-05-20 08:00,249.90,eur,ch_1,Visa,fraudulent,needs_response,2026-06-20 23:59,pi_1\n\
                    dp_2,,2026-06-03 11:00,2026-05-21 08:00,50.00,eur,ch_2,MasterCard,product_not_received,warning_needs_response,,pi_2\n";
        let ev = parse(text, now()).unwrap();
        let dp1 = &ev[0].0;
        assert_eq!((dp1.provider, dp1.provider_ref.as_str()), (Provider::Stripe, "dp_1"));
        assert_eq!((dp1.observed.stage, dp1.observed.status), (Some(Stage::Chargeback), Some(Status::NeedsResponse)));
        assert_eq!(
            (dp1.amount_minor, dp1.currency.as_deref(), dp1.network),
            (Some(24_990), Some("EUR"), Network::Visa)
        );
        assert_eq!(dp1.payment_refs, ["ch_1", "pi_1"]);
        assert_eq!(dp1.due_by, Some(Utc.with_ymd_and_hms(2026, 6, 20, 23, 59, 0).unwrap()));
        assert_eq!(ev[1].0.observed.stage, Some(Stage::Inquiry));
    }

    #[test]
    fn bad_lines_are_named() {
        let text =
            format!("{ADYEN_HEAD}\nShop,ShopDE,1,A-1,visa,yesterday,UTC,EUR,1.00,Chargeback,9,x,,,visa,10.4,,,,\n");
        let e = parse(&text, now()).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("Record Date"), "{e}");
        let text = format!(
            "{ADYEN_HEAD}\nShop,ShopDE,1,A-1,visa,2026-06-01 10:00:00,Mars/Olympus,EUR,1.00,Chargeback,9,x,,,visa,10.4,,,,\n"
        );
        let e = parse(&text, now()).unwrap_err().to_string();
        assert!(e.contains("TimeZone"), "{e}");
        let text = "id,Status,Dispute Created (UTC),Dispute Amount,Dispute Currency\ndp_1,exploded,2026-06-01 10:00,1.00,eur\n";
        let e = parse(text, now()).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("Status"), "{e}");
        let e = parse("a,b\n1,2\n", now()).unwrap_err().to_string();
        assert!(e.contains("dispute_ref"), "{e}");
    }
}
