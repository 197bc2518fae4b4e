//! Rule language: compile errors name rule, line and column; evaluation records reasons, faults and
//! the verdict precedence.

use riskdesk_domain::Verdict;
use riskdesk_domain::intake::parse_order_json;
use riskdesk_rules::features::{Facts, History, build_frame};
use riskdesk_rules::{RuleSet, Scratch, Value};

fn order(extra: serde_json::Value) -> riskdesk_domain::Order {
    let mut o = serde_json::json!({
        "order_id": "A-1", "placed_at": "2026-11-21T03:15:00+01:00", "channel": "webshop",
        "customer": {"customer_id": "C-1", "email": "Anna@Example.com", "created_at": "2026-11-21T02:00:00Z"},
        "total": {"amount": "249.90", "currency": "EUR"},
        "items": [{"sku": "S1", "brand": "Acme", "category": "Sneakers", "quantity": 2}],
        "payment": {"method": "card", "card": {"bin": "411111", "issuer_country": "US", "fingerprint": "fp"}},
        "billing_address": {"line1": "Torstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "shipping_address": {"line1": "Packstation 123", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "promo_codes": ["WELCOME10"],
        "attributes": {"checkout_seconds": 12, "loyalty_tier": "gold"}
    });
    if let (Some(o), serde_json::Value::Object(x)) = (o.as_object_mut(), extra) {
        o.extend(x);
    }
    parse_order_json(o.to_string().as_bytes()).unwrap()
}

fn rules(body: &str) -> String {
    format!("[scoring]\nreview_at = 50\ndecline_at = 80\n\n{body}")
}

fn rule(id: &str, expr: &str, action: &str, points: i32) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\nname = \"{id}\"\nexpression = '''{expr}'''\naction = \"{action}\"\npoints = {points}\n\n"
    )
}

fn run(set: &RuleSet, o: &riskdesk_domain::Order, facts: &Facts) -> riskdesk_rules::Outcome {
    let mut frame = Vec::new();
    build_frame(o, facts, set, &mut frame);
    set.evaluate(&frame, &mut Scratch::default())
}

fn first_error(src: &str) -> riskdesk_rules::RuleError {
    RuleSet::from_toml(src).unwrap_err().0.remove(0)
}

#[test]
fn syntax_error_names_rule_line_and_column() {
    let src = rules(&rule("ok", "order.amount > 1.0", "score", 10))
        + "[[rule]]\nid = \"broken\"\nname = \"b\"\nexpression = '''\norder.amount > 1.0 &&\n  (customer.orders >\n'''\naction = \"review\"\n";
    let e = first_error(&src);
    assert_eq!(e.rule, "broken");
    assert_eq!(e.field, "expression");
    assert!(e.message.starts_with("syntax error"), "{}", e.message);
    assert_eq!(e.line, 3, "{e:?}");
    assert!(e.file_line.unwrap() >= 13, "{e:?}");
    assert!(e.to_string().contains("rule `broken`, line 3"), "{e}");
}

#[test]
fn unknown_field_is_named_with_a_suggestion() {
    let e = first_error(&rules(&rule("r1", "order.amout > 100.0", "score", 5)));
    assert_eq!((e.rule.as_str(), e.line, e.column), ("r1", 1, 1));
    assert!(e.message.contains("unknown field `order.amout`; did you mean `order.amount`?"), "{}", e.message);
    let e = first_error(&rules(&rule("r2", "order.amount > 1.0 && customer.nope", "score", 5)));
    assert_eq!(e.column, 23, "{e:?}");
}

#[test]
fn type_errors_are_rejected() {
    for (expr, needle) in [
        ("order.amount > \"x\"", "cannot order double and string"),
        ("order.amount", "must be true or false"),
        ("order.channel + 1 > 2", "cannot calculate with string and int"),
        ("order.channel.startsWith(3)", "needs string, not int"),
        ("1.0 in order.categories", "needs string"),
        ("frobnicate(order.amount)", "unknown function `frobnicate`"),
        ("order", "is a group of fields"),
        ("order.categories.exists(c, c == \"x\")", "list macros"),
    ] {
        let e = first_error(&rules(&rule("t", expr, "score", 5)));
        assert!(e.message.contains(needle), "{expr}: {}", e.message);
    }
}

#[test]
fn division_by_zero_is_caught_at_validation() {
    let e = first_error(&rules(&rule("d", "order.amount / 0 > 1.0", "score", 5)));
    assert_eq!(e.message, "division by zero");
    assert_eq!(e.column, 16);
    let e = first_error(&rules(&rule("d2", "customer.spend / double(customer.orders) > 100.0", "score", 5)));
    assert!(e.message.contains("divides by zero"), "{}", e.message);
    // Guarded, the same division is fine.
    RuleSet::from_toml(&rules(&rule(
        "d3",
        "customer.orders > 0 && customer.spend / double(customer.orders) > 100.0",
        "score",
        5,
    )))
    .unwrap();
}

#[test]
fn bad_function_arguments() {
    for (expr, needle) in [
        ("velocity.count(\"device\", \"1w\") > 3", "unknown unit"),
        ("velocity.count(\"device\", \"100d\") > 3", "between 1 minute and 90 days"),
        ("velocity.count(\"toaster\", \"1h\") > 3", "unknown entity \"toaster\""),
        ("velocity.count(order.channel, \"1h\") > 3", "must be string literals"),
        ("velocity.distinct(\"card\", \"card\", \"1h\") > 3", "always 1"),
        ("lists.blocked(\"shoe\")", "unknown list kind"),
        ("order.channel.matches(\"(\")", "invalid regular expression"),
    ] {
        let e = first_error(&rules(&rule("f", expr, "score", 5)));
        assert!(e.message.contains(needle), "{expr}: {}", e.message);
    }
}

#[test]
fn too_long_rules_are_rejected() {
    let expr = vec!["order.amount > 1.0"; 120].join(" || ");
    let e = first_error(&rules(&rule("long", &expr, "score", 5)));
    assert!(e.message.contains("at most 300"), "{}", e.message);
}

#[test]
fn set_level_problems_are_all_reported() {
    let src = "[scoring]\nreview_at = 90\ndecline_at = 80\n".to_owned()
        + &rule("a", "true", "score", 5)
        + &rule("a", "true", "score", 500)
        + &rule("Bad-Id", "true", "score", 0);
    let errs = RuleSet::from_toml(&src).unwrap_err().0;
    let fields: Vec<_> = errs.iter().map(|e| (e.rule.as_str(), e.field.as_str())).collect();
    assert!(fields.contains(&("", "scoring")), "{fields:?}");
    assert!(fields.contains(&("a", "id")), "{fields:?}");
    assert!(fields.contains(&("a", "points")), "{fields:?}");
    assert!(fields.contains(&("Bad-Id", "id")), "{fields:?}");
    let e = first_error("[[rule]]\nid = \"x\"\nname = \"x\"\nexpression = \"true\"\naction = \"block\"\n");
    assert_eq!(e.field, "file");
    assert_eq!(e.file_line, Some(5));
}

#[test]
fn hits_carry_points_and_the_values_that_fired() {
    let set = RuleSet::from_toml(&rules(
        &(rule("new_high", "customer.account_age_days < 1.0 && order.amount >= 200.0", "score", 30)
            + &rule("mismatch", "signals.card_billing_mismatch", "score", 25)
            + &rule("night", "signals.unusual_hour && order.ships_to_locker", "score", 10)
            + &rule("promo", "\"WELCOME10\" in order.promo_codes && customer.first_order", "score", 5)
            + &rule("sneaker", "\"sneakers\" in order.categories && order.item_count >= 2", "score", 1)
            + &rule("attr", "attributes.checkout_seconds < 20.0 && attributes.loyalty_tier == \"gold\"", "score", 2)
            + &rule("quiet", "order.amount > 1000.0", "score", 50)),
    ))
    .unwrap();
    let out = run(&set, &order(serde_json::json!({})), &Facts::default());
    let ids: Vec<_> = out.reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(ids, ["new_high", "mismatch", "night", "promo", "sneaker", "attr"]);
    assert_eq!(out.score, 73);
    assert_eq!(out.verdict, Verdict::Review);
    assert_eq!(out.reasons[0].points, 30);
    assert_eq!(out.reasons[0].detail, "customer.account_age_days = 0.01, order.amount = 249.9");
    assert_eq!(out.reasons[1].detail, "signals.card_billing_mismatch = true");
    assert!(out.not_evaluated.is_empty(), "{:?}", out.not_evaluated);
}

#[test]
fn missing_optional_field_is_not_evaluated_not_failed() {
    let set = RuleSet::from_toml(&rules(
        &(rule("ip", "order.ip_country != order.billing_country", "score", 20)
            + &rule("attr", "attributes.device_score > 0.9", "review", 0)
            + &rule("guarded", "has(order.ip_country) && order.ip_country == \"RU\"", "decline", 0)
            + &rule("absorbed", "order.amount > 100.0 || order.ip_country == \"RU\"", "score", 5)),
    ))
    .unwrap();
    let out = run(&set, &order(serde_json::json!({})), &Facts::default());
    assert_eq!(out.verdict, Verdict::Approve);
    assert_eq!(out.reasons.len(), 1, "{:?}", out.reasons);
    assert_eq!(out.reasons[0].rule, "absorbed");
    let ne: Vec<_> = out.not_evaluated.iter().map(|n| (n.rule.as_str(), n.reason.as_str())).collect();
    assert_eq!(
        ne,
        [
            ("ip", "order.ip_country is not known for this order"),
            ("attr", "attributes.device_score is not known for this order")
        ]
    );
}

#[test]
fn precedence_allow_over_decline_over_review_and_thresholds() {
    let src = rules(
        &(rule("allow_vip", "attributes.loyalty_tier == \"platinum\"", "allow", 0)
            + &rule("block", "lists.blocked(\"email\")", "decline", 0)
            + &rule("look", "order.amount > 200.0", "review", 0)
            + &rule("points", "order.amount > 100.0", "score", 85)
            + &rule("trust", "customer.orders > 10", "score", -40)),
    );
    let set = RuleSet::from_toml(&src).unwrap();
    assert_eq!(set.needs().len(), 2); // the attribute and the list look-up
    let blocked = Facts { dynamic: vec![Value::Null, Value::Bool(true)], ..Facts::default() };
    let clean = Facts { dynamic: vec![Value::Null, Value::Bool(false)], ..Facts::default() };
    let o = order(serde_json::json!({}));
    let out = run(&set, &o, &blocked);
    assert_eq!((out.verdict, out.score), (Verdict::Decline, 85));
    // A score above decline_at declines without a decline rule.
    assert_eq!(run(&set, &o, &clean).verdict, Verdict::Decline);
    // Long history pulls the score under both thresholds; the review rule still reviews.
    let loyal = Facts { history: History { prior_orders: 20, ..History::default() }, ..clean.clone() };
    let out = run(&set, &o, &loyal);
    assert_eq!((out.verdict, out.score), (Verdict::Review, 45));
    let vip = order(serde_json::json!({"attributes": {"loyalty_tier": "platinum"}}));
    let out = run(&set, &vip, &blocked);
    assert_eq!(out.verdict, Verdict::Approve);
    // Scores are clamped to 0-100.
    let set = RuleSet::from_toml(&rules(&rule("neg", "true", "score", -30))).unwrap();
    assert_eq!(run(&set, &o, &Facts::default()).score, 0);
}

#[test]
fn velocity_and_lists_become_needs_once() {
    let set = RuleSet::from_toml(&rules(
        &(rule("v1", "velocity.count(\"device\", \"1h\") >= 3", "score", 10)
            + &rule(
                "v2",
                "velocity.count(\"device\", \"60m\") >= 5 && velocity.sum(\"shipping_address\", \"7d\") > 1000.0",
                "score",
                10,
            )
            + &rule("v3", "velocity.distinct(\"customer\", \"card\", \"24h\") > 2", "score", 10)),
    ))
    .unwrap();
    let names: Vec<String> = set.needs().iter().map(|n| n.to_string()).collect();
    assert_eq!(
        names,
        [
            "velocity.count(\"device\", \"1h\")",
            "velocity.sum(\"shipping_address\", \"7d\")",
            "velocity.distinct(\"customer\", \"card\", \"1d\")"
        ]
    );
    let facts = Facts { dynamic: vec![Value::Int(5), Value::Double(1200.0), Value::Int(1)], ..Facts::default() };
    let out = run(&set, &order(serde_json::json!({})), &facts);
    let ids: Vec<_> = out.reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(ids, ["v1", "v2"]);
    assert_eq!(
        out.reasons[1].detail,
        "velocity.count(\"device\", \"1h\") = 5, velocity.sum(\"shipping_address\", \"7d\") = 1200"
    );
}

#[test]
fn hostile_strings_stay_data() {
    let set =
        RuleSet::from_toml(&rules(&rule("s", "order.channel == \"<script>alert(1)</script>\"", "score", 5))).unwrap();
    let out = run(&set, &order(serde_json::json!({})), &Facts::default());
    assert!(out.reasons.is_empty());
}

#[test]
fn the_starter_pack_validates() {
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/starter-fashion.toml")).unwrap();
    let set = RuleSet::from_toml(&src).unwrap_or_else(|e| panic!("{e}"));
    assert!(set.rules.len() >= 25);
    assert!(set.rules.iter().all(|r| !r.doc.description.is_empty()));
    // An ordinary order of a known customer raises nothing and nothing is left unevaluated
    // for lack of optional data.
    let o = order(serde_json::json!({"placed_at": "2026-11-21T14:00:00+01:00",
        "payment": {"method": "card", "card": {"bin": "411111", "issuer_country": "DE", "fingerprint": "fp"}},
        "shipping_address": {"line1": "Torstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "customer": {"customer_id": "C-1", "email": "a@example.com", "created_at": "2024-01-01T00:00:00Z"}}));
    let mut facts = Facts { history: History { prior_orders: 3, ..History::default() }, ..Facts::default() };
    facts.dynamic = set
        .needs()
        .iter()
        .map(|n| match n {
            riskdesk_rules::needs::Need::Velocity(_) => Value::Int(1),
            riskdesk_rules::needs::Need::List(_) => Value::Bool(false),
            riskdesk_rules::needs::Need::Attribute(_) => Value::Null,
            riskdesk_rules::needs::Need::Returns(_) => Value::Int(0),
        })
        .collect();
    let out = run(&set, &o, &facts);
    assert_eq!(out.verdict, Verdict::Approve, "{:?}", out.reasons);
    assert!(out.not_evaluated.is_empty(), "{:?}", out.not_evaluated);
}

/// A field read a second time in one rule, after another field, must still be the field the
/// comparison names (the fast comparison paths once took the rule's latest new field instead).
#[test]
fn a_field_read_twice_in_a_rule_keeps_its_own_value() {
    let hits = |expr: &str| {
        let set = RuleSet::from_toml(&rules(&rule("twice", expr, "review", 0))).unwrap();
        run(&set, &order(serde_json::json!({})), &Facts::default()).reasons.len()
    };
    // 249.90 > 100, a first order, and 249.90 > 500 is false: the rule must not fire.
    assert_eq!(hits("order.amount > 100.0 && customer.first_order && order.amount > 500.0"), 0);
    // The same with equality on a string read twice around another field.
    assert_eq!(hits("order.currency == \"EUR\" && order.channel == \"webshop\" && order.currency == \"USD\""), 0);
    // And it still fires when it should.
    assert_eq!(hits("order.amount > 100.0 && customer.first_order && order.amount < 500.0"), 1);
}

#[test]
fn return_abuse_counts_are_rule_variables() {
    let src = rules(&rule(
        "serial_returner",
        "customer.orders >= 3 && customer.return_rate >= 0.6 && customer.refund_claims >= 1",
        "review",
        0,
    ));
    let set = RuleSet::from_toml(&src).unwrap();
    let o = order(serde_json::json!({}));
    let h = |orders, returns, claims| Facts {
        history: History { prior_orders: orders, returns, refund_claims: claims, ..History::default() },
        ..Facts::default()
    };
    assert_eq!(run(&set, &o, &h(5, 3, 1)).verdict, Verdict::Review, "60 % returns and a claim");
    assert_eq!(run(&set, &o, &h(5, 2, 1)).verdict, Verdict::Approve, "40 %");
    assert_eq!(run(&set, &o, &h(0, 0, 1)).verdict, Verdict::Approve, "no earlier order: rate 0");
}
