//! Parsing of the intake-v1 wire format (`../shared/api/intake-v1.md`) into domain values.
//!
//! Decoding happens in two steps so that every error names its field: serde reads the body into
//! loose wire structs (wrong JSON types are reported with their path), then each value is parsed
//! into its newtype. Unknown fields are ignored, as the format requires.

use crate::address::parse_address;
use crate::error::{At, Sub};
use crate::event::REFUND_CLAIMS;
use crate::ids::check_external_id;
use crate::order::{AttributeValue, Card, Device, Iban, Item, Payment, PaymentMethod};
use crate::text::{clean, clean_owned};
use crate::{
    Address, CountryCode, Customer, CustomerId, Email, Event, EventId, EventType, FieldError, Money, Order, OrderId,
    Phone,
};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Display;

/// Most items one order may carry; larger baskets are refused rather than stored half.
pub const MAX_ITEMS: usize = 500;
pub const MAX_PROMO_CODES: usize = 50;
pub const MAX_ATTRIBUTES: usize = 200;
pub const MAX_EVENT_DATA_KEYS: usize = 100;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Text as sent: borrowed from the body where it needs no unescaping, so that a value only read
/// (times, amounts, codes, e-mail and phone before normalising) costs no allocation. A struct
/// of its own because serde borrows only a field that is literally `Cow<'a, str>`: inside an
/// `Option` it would always copy.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl Text<'_> {
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }

    /// Whether the text was borrowed from the input (no escapes to undo).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Text<'_>> for String {
    fn from(t: Text<'_>) -> String {
        t.into_owned()
    }
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MoneyIn<'a> {
    /// Decimal string, never a float: `"249.90"`.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required, nullable = false, pattern = "^[0-9]+(\\.[0-9]+)?$"))]
    pub amount: Option<Text<'a>>,
    /// ISO 4217 code.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(required, schema_with = crate::openapi::currency))]
    pub currency: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CustomerIn<'a> {
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required, nullable = false, pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$"))]
    pub customer_id: Option<Text<'a>>,
    /// An e-mail address (a local part and a domain with a dot, as RFC 5322 has them); empty: none.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^(|\\s*[^\\s@<>\"][^\\s@<>]*@[^\\s@<>\\[][^\\s@<>]*\\s*)$", max_length = 300))]
    pub email: Option<Text<'a>>,
    /// An international number such as `+4915112345678`; empty: none.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^(|\\s*(\\+|00)[ ./()-]*[1-9]([ ./()-]*[0-9]){6,14}[ ./()-]*\\s*)$"))]
    pub phone: Option<Text<'a>>,
    /// At most 200 characters, no control characters or markup tags.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 200))]
    pub name: Option<Text<'a>>,
    /// RFC 3339 with offset.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub created_at: Option<Text<'a>>,
    /// The customer id of who invited them; empty: none.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$"))]
    pub invited_by: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ItemIn<'a> {
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 128))]
    pub sku: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 128))]
    pub brand: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 128))]
    pub category: Option<Text<'a>>,
    /// 1 to 10,000 (default 1).
    #[serde(default, deserialize_with = "crate::whole::opt_int")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub quantity: Option<i64>,
    #[serde(borrow)]
    pub unit_price: Option<MoneyIn<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CardIn<'a> {
    /// 6 or 8 digits; empty: none.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^(|[0-9]{6}|[0-9]{8})$"))]
    pub bin: Option<Text<'a>>,
    /// 4 digits; empty: none.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^(|[0-9]{4})$"))]
    pub last4: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$"))]
    pub fingerprint: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::country_or_blank))]
    pub issuer_country: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentIn<'a> {
    /// `card`, `paypal`, `invoice`, `bnpl`, `sepa_debit`, `gift_card` or `other`.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required, nullable = false, pattern = "^(card|paypal|invoice|bnpl|sepa_debit|gift_card|other)$"))]
    pub method: Option<Text<'a>>,
    #[serde(borrow)]
    pub card: Option<CardIn<'a>>,
    /// An IBAN (spaces allowed), its check digits right; empty: none.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^(|[A-Za-z0-9 ]+)$"))]
    pub iban: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$"))]
    pub wallet_id: Option<Text<'a>>,
    /// The payment provider's id of the payment (a Stripe PaymentIntent or charge, an Adyen
    /// pspReference): disputes from that provider link to the order through it.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$"))]
    pub psp_reference: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AddressIn<'a> {
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 200))]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 200))]
    pub line1: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 200))]
    pub line2: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 20))]
    pub postal_code: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 100))]
    pub city: Option<Text<'a>>,
    /// ISO 3166-1 alpha-2.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::country_or_null))]
    pub country: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceIn<'a> {
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$"))]
    pub device_id: Option<Text<'a>>,
    /// An IPv4 or IPv6 address; empty: none.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^(|\\s*[0-9A-Fa-f:.]+\\s*)$"))]
    pub ip: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 1024))]
    pub user_agent: Option<Text<'a>>,
}

/// A promotion code: at most 64 characters, no control characters or markup tags.
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[schema(
    pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$",
    max_length = 64
)]
#[allow(dead_code)]
pub struct PromoCode(String);

/// `POST /api/v1/orders` body. Required: `order_id`, `placed_at`, `customer.customer_id`,
/// `total`, `payment.method`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderIn<'a> {
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required, nullable = false, pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$"))]
    pub order_id: Option<Text<'a>>,
    /// RFC 3339 with offset.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required, nullable = false, format = DateTime))]
    pub placed_at: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$", max_length = 64))]
    pub channel: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(required, nullable = false))]
    pub customer: Option<CustomerIn<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(required, nullable = false))]
    pub total: Option<MoneyIn<'a>>,
    /// At most 500; each item's `unit_price` in the currency of `total`.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub items: Option<Vec<ItemIn<'a>>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(required, nullable = false))]
    pub payment: Option<PaymentIn<'a>>,
    #[serde(borrow)]
    pub billing_address: Option<AddressIn<'a>>,
    #[serde(borrow)]
    pub shipping_address: Option<AddressIn<'a>>,
    #[serde(borrow)]
    pub device: Option<DeviceIn<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<PromoCode>>, max_items = 50))]
    pub promo_codes: Option<Vec<Text<'a>>>,
    /// Flat map of shop-specific signals: at most 200, named by 1 to 64 letters, digits and `_`;
    /// number, string (at most 1,000 characters, no control characters or markup tags),
    /// boolean or null values.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<Map<String, Value>>,
}

/// `POST /api/v1/events` body. Required: `event_id`, `type`, `occurred_at`, and `order_id` or
/// `customer_id`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventIn<'a> {
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required, nullable = false, pattern = "^[A-Za-z0-9_.:#/@+=-]{1,128}$"))]
    pub event_id: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<String>,
            required,
            nullable = false,
            pattern = "^(payment_authorized|payment_declined|order_shipped|order_delivered|order_cancelled|return_requested|return_received|refund_issued|refund_claimed|chargeback_received|login|password_changed|email_changed|phone_changed|address_changed|fraud_confirmed|legit_confirmed)$"
        )
    )]
    pub event_type: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required, nullable = false, format = DateTime))]
    pub occurred_at: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$"))]
    pub order_id: Option<Text<'a>>,
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^([A-Za-z0-9_.:#/@+=-]{1,128})?$"))]
    pub customer_id: Option<Text<'a>>,
    /// At most 100 fields, nested at most 8 deep, without control characters in names or
    /// text (text at most 10,000 characters); `amount` as `{"amount", "currency"}`; a refund
    /// claim's `claim` is `not_received`, `empty_box`, `wrong_item` or `damaged`;
    /// `reason_code`, `psp_reference` and `condition` are text.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<Map<String, Value>>,
}

/// Decodes JSON bytes into a wire struct, naming the field of any type error.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, FieldError> {
    // serde would also fill a struct from a JSON array; the format only has objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        return Err(FieldError::new("malformed_json", "", "the body must be a JSON object"));
    }
    // The plain decoder is several times faster; the path-tracking one runs only to explain an
    // error. Checking UTF-8 once for the whole body, not string by string as decoding bytes
    // does, took a twentieth off parsing an import; invalid UTF-8 falls through to the same error.
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(v) = serde_json::from_str(text)
    {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        let msg = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data if msg.starts_with("duplicate field") => {
                FieldError::new("duplicate_field", field, msg)
            }
            serde_json::error::Category::Data if field.ends_with(".amount") || field == "amount" => {
                FieldError::new("invalid_amount", field, "amount must be a decimal string such as \"249.90\"")
            }
            serde_json::error::Category::Data => FieldError::new("invalid_type", field, msg),
            _ => FieldError::new("malformed_json", "", format!("the body is not valid JSON: {msg}")),
        }
    })?;
    de.end().map_err(|e| FieldError::new("malformed_json", "", format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Decodes and parses an order body.
pub fn parse_order_json(bytes: &[u8]) -> Result<Order, FieldError> {
    parse_order(decode::<OrderIn<'_>>(bytes)?)
}

/// Decodes and parses an event body.
pub fn parse_event_json(bytes: &[u8]) -> Result<Event, FieldError> {
    parse_event(decode::<EventIn<'_>>(bytes)?)
}

fn timestamp(v: &str, field: impl Display + Copy) -> Result<DateTime<FixedOffset>, FieldError> {
    DateTime::parse_from_rfc3339(v.trim()).map_err(|_| {
        FieldError::new(
            "invalid_timestamp",
            field,
            format!("{field} must be an RFC 3339 time with offset, such as 2026-11-21T10:15:00+01:00"),
        )
    })
}

fn opt_text(v: Option<Text<'_>>, field: impl Display + Copy, max: usize) -> Result<Option<String>, FieldError> {
    Ok(match v {
        Some(s) => clean_owned(s.into_owned(), field, max)?,
        None => None,
    })
}

fn opt_id(v: Option<Text<'_>>, field: impl Display + Copy) -> Result<Option<String>, FieldError> {
    v.filter(|s| !s.is_empty()).map(|s| check_external_id(&s, field).map(|()| s.into_owned())).transpose()
}

fn money(m: Option<MoneyIn<'_>>, field: impl Display + Copy) -> Result<Option<Money>, FieldError> {
    let Some(m) = m else { return Ok(None) };
    let amount = m.amount.ok_or_else(|| FieldError::missing(Sub(field, "amount")))?;
    let currency = m.currency.ok_or_else(|| FieldError::missing(Sub(field, "currency")))?;
    Money::parse(&amount, &currency, field).map(Some)
}

fn digits(v: Option<Text<'_>>, field: impl Display + Copy, lens: &[usize]) -> Result<Option<String>, FieldError> {
    let Some(v) = v.filter(|s| !s.is_empty()) else { return Ok(None) };
    if lens.contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(v.into_owned()))
    } else {
        Err(FieldError::new("invalid_digits", field, format!("{field} must be {lens:?} digits")))
    }
}

fn address(a: Option<AddressIn<'_>>, field: impl Display + Copy) -> Result<Option<Address>, FieldError> {
    let Some(a) = a else { return Ok(None) };
    let parsed = parse_address(a.name, a.line1, a.line2, a.postal_code, a.city, a.country, field)?;
    Ok((parsed != Address::default()).then_some(parsed))
}

/// Parses a decoded order body into an [`Order`].
pub fn parse_order(o: OrderIn<'_>) -> Result<Order, FieldError> {
    let order_id =
        OrderId::parse_owned(o.order_id.ok_or_else(|| FieldError::missing("order_id"))?.into_owned(), "order_id")?;
    let placed_at = timestamp(&o.placed_at.ok_or_else(|| FieldError::missing("placed_at"))?, "placed_at")?;
    let channel = opt_text(o.channel, "channel", 64)?;

    let c = o.customer.ok_or_else(|| FieldError::missing("customer.customer_id"))?;
    let customer = Customer {
        customer_id: CustomerId::parse_owned(
            c.customer_id.ok_or_else(|| FieldError::missing("customer.customer_id"))?.into_owned(),
            "customer.customer_id",
        )?,
        email: c.email.filter(|s| !s.is_empty()).map(|e| Email::parse(&e, "customer.email")).transpose()?,
        phone: c.phone.filter(|s| !s.is_empty()).map(|p| Phone::parse(&p, "customer.phone")).transpose()?,
        name: opt_text(c.name, "customer.name", 200)?,
        created_at: c.created_at.map(|t| timestamp(&t, "customer.created_at")).transpose()?,
        invited_by: opt_id(c.invited_by, "customer.invited_by")?
            .map(|s| CustomerId::parse_owned(s, "customer.invited_by"))
            .transpose()?,
    };

    let total = money(o.total, "total")?.ok_or_else(|| FieldError::missing("total"))?;

    let raw_items = o.items.unwrap_or_default();
    if raw_items.len() > MAX_ITEMS {
        return Err(FieldError::new(
            "too_many_items",
            "items",
            format!("an order may have at most {MAX_ITEMS} items, this one has {}", raw_items.len()),
        ));
    }
    let mut items = Vec::with_capacity(raw_items.len());
    for (i, it) in raw_items.into_iter().enumerate() {
        let f = |s: &'static str| Sub(At("items", i), s);
        let quantity = match it.quantity {
            None => 1,
            Some(q) if (1..=10_000).contains(&q) => q as u32,
            Some(_) => {
                return Err(FieldError::new(
                    "invalid_quantity",
                    f("quantity"),
                    format!("{} must be 1 to 10000", f("quantity")),
                ));
            }
        };
        let unit_price = money(it.unit_price, f("unit_price"))?;
        if let Some(p) = unit_price
            && p.currency != total.currency
        {
            return Err(FieldError::new(
                "currency_mismatch",
                f("unit_price.currency"),
                format!("{} must be the order's currency {}", f("unit_price.currency"), total.currency),
            ));
        }
        items.push(Item {
            sku: opt_text(it.sku, f("sku"), 128)?,
            brand: opt_text(it.brand, f("brand"), 128)?,
            category: opt_text(it.category, f("category"), 128)?,
            quantity,
            unit_price,
        });
    }

    let p = o.payment.ok_or_else(|| FieldError::missing("payment.method"))?;
    let method_raw = p.method.ok_or_else(|| FieldError::missing("payment.method"))?;
    let method = PaymentMethod::parse(&method_raw).ok_or_else(|| {
        FieldError::new(
            "invalid_enum",
            "payment.method",
            "payment.method must be one of card, paypal, invoice, bnpl, sepa_debit, gift_card, other",
        )
    })?;
    let card = match p.card {
        None => None,
        Some(c) => Some(Card {
            bin: digits(c.bin, "payment.card.bin", &[6, 8])?,
            last4: digits(c.last4, "payment.card.last4", &[4])?,
            fingerprint: opt_id(c.fingerprint, "payment.card.fingerprint")?,
            issuer_country: c
                .issuer_country
                .filter(|s| !s.is_empty())
                .map(|s| CountryCode::parse(&s, "payment.card.issuer_country"))
                .transpose()?,
        }),
    };
    let payment = Payment {
        method,
        card: card.filter(|c| *c != Card { bin: None, last4: None, fingerprint: None, issuer_country: None }),
        iban: p.iban.filter(|s| !s.is_empty()).map(|s| Iban::parse(&s, "payment.iban")).transpose()?,
        wallet_id: opt_id(p.wallet_id, "payment.wallet_id")?,
        psp_reference: opt_id(p.psp_reference, "payment.psp_reference")?,
    };

    let device = match o.device {
        None => None,
        Some(d) => {
            let dev = Device {
                device_id: opt_id(d.device_id, "device.device_id")?,
                ip: d
                    .ip
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.trim().parse().map_err(|_| {
                            FieldError::new("invalid_ip", "device.ip", "device.ip is not an IPv4 or IPv6 address")
                        })
                    })
                    .transpose()?,
                user_agent: opt_text(d.user_agent, "device.user_agent", 1024)?,
            };
            (dev != Device { device_id: None, ip: None, user_agent: None }).then_some(dev)
        }
    };

    let raw_codes = o.promo_codes.unwrap_or_default();
    if raw_codes.len() > MAX_PROMO_CODES {
        return Err(FieldError::new(
            "too_many_promo_codes",
            "promo_codes",
            format!("at most {MAX_PROMO_CODES} promo codes"),
        ));
    }
    let mut promo_codes = Vec::with_capacity(raw_codes.len());
    for (i, code) in raw_codes.into_iter().enumerate() {
        if let Some(c) = clean_owned(code.into_owned(), At("promo_codes", i), 64)? {
            promo_codes.push(c);
        }
    }

    let attributes = parse_attributes(o.attributes.unwrap_or_default())?;

    Ok(Order {
        order_id,
        placed_at,
        channel,
        customer,
        total,
        items,
        payment,
        billing_address: address(o.billing_address, "billing_address")?,
        shipping_address: address(o.shipping_address, "shipping_address")?,
        device,
        promo_codes,
        attributes,
    })
}

fn parse_attributes(raw: Map<String, Value>) -> Result<BTreeMap<String, AttributeValue>, FieldError> {
    if raw.len() > MAX_ATTRIBUTES {
        return Err(FieldError::new(
            "too_many_attributes",
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    let mut out = BTreeMap::new();
    for (name, value) in raw {
        let field = Sub("attributes", name.as_str());
        if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(FieldError::new(
                "invalid_attribute_name",
                "attributes",
                "attribute names are 1 to 64 letters, digits and _",
            ));
        }
        let v = match value {
            Value::Null => continue,
            Value::Bool(b) => AttributeValue::Bool(b),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() => AttributeValue::Number(f),
                _ => return Err(FieldError::new("invalid_attribute", field, "number out of range")),
            },
            Value::String(s) => AttributeValue::Text(clean_owned(s, field, 1000)?.unwrap_or_default()),
            Value::Array(_) | Value::Object(_) => {
                return Err(FieldError::new(
                    "invalid_attribute",
                    field,
                    format!("{field} must be a number, string or boolean"),
                ));
            }
        };
        out.insert(name, v);
    }
    Ok(out)
}

/// Parses a decoded event body into an [`Event`].
pub fn parse_event(e: EventIn<'_>) -> Result<Event, FieldError> {
    let event_id = EventId::parse(&e.event_id.ok_or_else(|| FieldError::missing("event_id"))?, "event_id")?;
    let type_raw = e.event_type.ok_or_else(|| FieldError::missing("type"))?;
    let event_type = EventType::parse(&type_raw)
        .ok_or_else(|| FieldError::new("invalid_enum", "type", "type is not a known event type (see intake-v1)"))?;
    let occurred_at = timestamp(&e.occurred_at.ok_or_else(|| FieldError::missing("occurred_at"))?, "occurred_at")?;
    let order_id = opt_id(e.order_id, "order_id")?.map(|s| OrderId::parse(&s, "order_id")).transpose()?;
    let customer_id =
        opt_id(e.customer_id, "customer_id")?.map(|s| CustomerId::parse(&s, "customer_id")).transpose()?;
    if order_id.is_none() && customer_id.is_none() {
        return Err(FieldError::new("missing_field", "order_id", "give order_id or customer_id"));
    }
    let mut data = e.data.unwrap_or_default();
    if data.len() > MAX_EVENT_DATA_KEYS {
        return Err(FieldError::new(
            "too_many_fields",
            "data",
            format!("data may have at most {MAX_EVENT_DATA_KEYS} fields"),
        ));
    }
    check_strings(&Value::Object(data.clone()), "data", 0)?;
    if let Some(v) = data.get("amount") {
        let m = MoneyIn::deserialize(v).map_err(|_| {
            FieldError::new(
                "invalid_amount",
                "data.amount",
                "data.amount must be {\"amount\": \"…\", \"currency\": \"…\"}",
            )
        })?;
        let parsed = money(Some(m), "data.amount")?.ok_or_else(|| FieldError::missing("data.amount"))?;
        data.insert("amount".into(), serde_json::to_value(parsed).unwrap_or(Value::Null));
    }
    if event_type == EventType::RefundClaimed
        && let Some(claim) = data.get("claim")
        && !claim.as_str().is_some_and(|c| REFUND_CLAIMS.contains(&c))
    {
        return Err(FieldError::new(
            "invalid_enum",
            "data.claim",
            "data.claim must be not_received, empty_box, wrong_item or damaged",
        ));
    }
    for key in ["reason_code", "psp_reference", "condition"] {
        if let Some(v) = data.get(key)
            && !v.is_string()
        {
            return Err(FieldError::new("invalid_type", format!("data.{key}"), format!("data.{key} must be a string")));
        }
    }
    Ok(Event { event_id, event_type, occurred_at, order_id, customer_id, data })
}

/// Refuses control characters anywhere in free-form event data, and absurd nesting.
fn check_strings(v: &Value, field: &str, depth: usize) -> Result<(), FieldError> {
    if depth > 8 {
        return Err(FieldError::new("too_deep", field, format!("{field} is nested too deeply")));
    }
    match v {
        Value::String(s) => clean(s, field, 10_000).map(|_| ()),
        Value::Array(a) => {
            a.iter().enumerate().try_for_each(|(i, x)| check_strings(x, &format!("{field}[{i}]"), depth + 1))
        }
        Value::Object(m) => m.iter().try_for_each(|(k, x)| {
            clean(k, field, 100)?;
            check_strings(x, &format!("{field}.{k}"), depth + 1)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
