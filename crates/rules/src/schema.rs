//! What a rule can see: the catalogue of variables and functions, with types and descriptions.
//! The catalogue is the contract between analysts and the feature builder: `riskdesk rules
//! schema` prints it, and the compiler rejects any name that is not in it.

use crate::value::Ty;
use serde::Serialize;

/// A variable of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct VarDef {
    pub name: &'static str,
    #[serde(serialize_with = "ser_ty")]
    pub ty: Ty,
    pub doc: &'static str,
}

fn ser_ty<S: serde::Serializer>(ty: &Ty, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(ty.name())
}

macro_rules! vars {
    ($($id:ident = $name:literal : $ty:ident, $doc:literal;)*) => {
        /// A fixed slot of the feature frame.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Var { $($id,)* }

        pub const VARS: &[VarDef] = &[$(VarDef { name: $name, ty: Ty::$ty, doc: $doc },)*];

        impl Var {
            pub const ALL: &'static [Var] = &[$(Var::$id,)*];
        }
    };
}

vars! {
    OrderId = "order.id": String, "The order id.";
    Channel = "order.channel": String, "Sales channel as sent: webshop, app, amazon, zalando, marketplace:<name>.";
    Amount = "order.amount": Double, "Order total in major units of its currency (249.90).";
    Currency = "order.currency": String, "ISO 4217 currency of the total.";
    ItemCount = "order.item_count": Int, "Number of pieces (sum of quantities).";
    Categories = "order.categories": List, "Item categories, lower case.";
    Brands = "order.brands": List, "Item brands, lower case.";
    Skus = "order.skus": List, "Item SKUs.";
    PaymentMethod = "order.payment_method": String, "card, paypal, invoice, bnpl, sepa_debit, gift_card or other.";
    CardBin = "order.card_bin": String, "First 6 or 8 digits of the card.";
    CardCountry = "order.card_country": String, "Country that issued the card (ISO 3166 alpha-2).";
    BillingCountry = "order.billing_country": String, "Country of the billing address.";
    ShippingCountry = "order.shipping_country": String, "Country of the shipping address.";
    IpCountry = "order.ip_country": String, "Country of the IP address, from the shop's `ip_country` attribute when sent.";
    Ip = "order.ip": String, "IP address of the device.";
    UserAgent = "order.user_agent": String, "User agent of the device.";
    PromoCodes = "order.promo_codes": List, "Promotion and voucher codes used.";
    LocalHour = "order.local_hour": Int, "Hour of the day (0-23) in the time zone the order was placed in.";
    ShipsToLocker = "order.ships_to_locker": Bool, "The shipping address is a parcel locker, Packstation or pick-up shop.";
    CustomerId = "customer.id": String, "The customer account id.";
    EmailDomain = "customer.email_domain": String, "Domain of the e-mail address, lower case.";
    AccountAgeDays = "customer.account_age_days": Double, "Days from account creation to this order.";
    MinutesSinceSignup = "customer.minutes_since_signup": Double, "Minutes from account creation to this order.";
    Invited = "customer.invited": Bool, "The account was invited by another account.";
    InviterInvites = "customer.inviter_invites": Int, "Accounts invited by this account's inviter (0 when not invited).";
    PriorOrders = "customer.orders": Int, "Orders this account placed before this one.";
    PriorSpend = "customer.spend": Double, "Total of those orders, major units.";
    FirstOrder = "customer.first_order": Bool, "This is the account's first order.";
    Returns = "customer.returns": Int, "Returns requested on earlier orders.";
    RefundClaims = "customer.refund_claims": Int, "Refund claims (not received, empty box, wrong item, damaged).";
    Chargebacks = "customer.chargebacks": Int, "Chargebacks received on the account's orders.";
    FraudLabels = "customer.fraud_labels": Int, "Orders of the account confirmed as fraud.";
    LegitLabels = "customer.legit_labels": Int, "Orders of the account confirmed as legitimate.";
    ReturnRate = "customer.return_rate": Double, "Returns per earlier order (0 with none): serial returning.";
    ClaimRate = "customer.claim_rate": Double, "Refund claims per earlier order (0 with none).";
    HoursSinceAccountChange = "customer.hours_since_account_change": Double, "Hours since the last password, e-mail, phone or address change; null if none.";
    NewDevice = "customer.new_device": Bool, "The account ordered before, never from this device.";
    NewShippingAddress = "customer.new_shipping_address": Bool, "The account ordered before, never to this address.";
    BillingShippingMismatch = "signals.billing_shipping_mismatch": Bool, "Billing and shipping countries differ.";
    CardBillingMismatch = "signals.card_billing_mismatch": Bool, "Card-issuing and billing countries differ.";
    IpBillingMismatch = "signals.ip_billing_mismatch": Bool, "IP and billing countries differ.";
    CountryMismatch = "signals.country_mismatch": Bool, "Any of billing, shipping, card and IP countries differ.";
    Countries = "signals.countries": Int, "Distinct countries among billing, shipping, card and IP.";
    UnusualHour = "signals.unusual_hour": Bool, "Placed between 01:00 and 05:59 local time.";
    ClusterSize = "cluster.size": Int, "Accounts linked to this one through shared entities, itself included.";
    ClusterFraud = "cluster.fraud_accounts": Int, "Linked accounts with an order confirmed as fraud.";
    ClusterChargebacks = "cluster.chargeback_accounts": Int, "Linked accounts with a chargeback.";
}

/// Every variable a rule can name: the fixed ones, then those read only for rule sets that use
/// them (the return trail, [`crate::needs::ReturnFact`]).
pub fn catalogue() -> Vec<VarDef> {
    use crate::needs::ReturnFact;
    VARS.iter()
        .copied()
        .chain(ReturnFact::ALL.iter().map(|r| VarDef {
            name: r.name(),
            ty: if r.is_money() { Ty::Double } else { Ty::Int },
            doc: r.doc(),
        }))
        .collect()
}

impl Var {
    pub fn def(self) -> &'static VarDef {
        &VARS[self as usize]
    }

    pub fn slot(self) -> usize {
        self as usize
    }

    pub fn by_name(name: &str) -> Option<Var> {
        Var::ALL.iter().copied().find(|v| v.def().name == name)
    }
}

/// A function of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FnDef {
    pub signature: &'static str,
    pub doc: &'static str,
}

pub const FUNCTIONS: &[FnDef] = &[
    FnDef {
        signature: "velocity.count(entity, window) -> int",
        doc: "Orders with this order's entity placed within the window up to this order, this one included.",
    },
    FnDef { signature: "velocity.sum(entity, window) -> double", doc: "Total value of those orders, major units." },
    FnDef {
        signature: "velocity.distinct(entity, of, window) -> int",
        doc: "Distinct values of `of` among those orders, e.g. distinct cards on this account in 24 h.",
    },
    FnDef { signature: "lists.blocked(kind) -> bool", doc: "This order's value of `kind` is on the block list." },
    FnDef { signature: "lists.allowed(kind) -> bool", doc: "This order's value of `kind` is on the allow list." },
    FnDef { signature: "lists.blocked() -> bool", doc: "Any of this order's values is on the block list." },
    FnDef { signature: "has(x.field) -> bool", doc: "The field is present for this order." },
    FnDef { signature: "size(s) / s.size() -> int", doc: "Length of a string or list." },
    FnDef {
        signature: "s.startsWith(t), s.endsWith(t), s.contains(t) -> bool",
        doc: "String tests; `t` in list tests membership.",
    },
    FnDef {
        signature: "s.matches(regex) -> bool",
        doc: "Regular expression test (RE2 syntax, linear time; the pattern must be a literal).",
    },
    FnDef { signature: "s.lowerAscii(), s.upperAscii() -> string", doc: "Case conversion." },
    FnDef { signature: "int(x), double(x), string(x)", doc: "Conversions." },
];

/// Entities that velocity functions count over.
pub const VELOCITY_ENTITIES: &[&str] =
    &["customer", "email", "phone", "device", "card", "iban", "wallet", "ip", "shipping_address", "billing_address"];

/// Kinds of list entries.
pub const LIST_KINDS: &[&str] =
    &["email", "email_domain", "phone", "device", "card", "bin", "iban", "ip", "address", "customer"];
