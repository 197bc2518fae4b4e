//! The OpenAPI document, generated from the handlers and wire types.

use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The answer to an order (intake-v1).
#[derive(Serialize, ToSchema)]
pub struct DecisionOut {
    pub order_id: String,
    /// `approve`, `review` or `decline`.
    pub decision: String,
    /// 0-100.
    pub score: u8,
    pub reasons: Vec<ReasonOut>,
    pub ruleset_version: i64,
    pub decided_at: String,
    /// Rules that could not be evaluated for this order, with the reason (absent when none).
    pub not_evaluated: Option<Vec<NotEvaluatedOut>>,
}

#[derive(Serialize, ToSchema)]
pub struct NotEvaluatedOut {
    pub rule: String,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReasonOut {
    pub rule: String,
    pub action: String,
    pub points: i32,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventAckOut {
    pub event_id: String,
    /// `accepted`, or `duplicate` for a repeated event id.
    pub status: String,
}

/// A file's bytes (a request or response body that is not JSON).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBody(Vec<u8>);

/// Every error: a stable `code`, a human `detail`, and the offending `field` when there is one.
#[derive(Serialize, ToSchema)]
pub struct ErrorOut {
    pub code: String,
    pub detail: String,
    pub field: Option<String>,
    /// Every problem when there are several: `{field, message}` for forms and bodies, richer
    /// objects (rule, line, column) for rule files and list imports.
    pub errors: Option<Vec<serde_json::Value>>,
}

pub use riskdesk_domain::openapi::{currency, currency_or_null};

/// An IANA time zone name, empty, or null (for `schema_with`).
pub fn time_zone_or_blank() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(format!("^(|{})$", names.join("|").replace('+', "\\+"))))
        .description(Some("An IANA name (`Europe/Paris`); null or empty: the installation's default."))
        .build()
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = api.components.as_mut() {
            c.add_security_scheme(
                "api_key",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The shared parts of the document; every area merges its own paths into it (`api_doc`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "riskdesk API",
        description = "Order and event intake (intake-v1), reads, the review queue, four-eye approvals, rule sets, \
                       lists, the audit log and users. Machine clients use API keys with scopes; people use personal \
                       access tokens, which act as them with their role."
    ),
    components(schemas(DecisionOut, ReasonOut, NotEvaluatedOut, EventAckOut, ErrorOut, FileBody, super::error::Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// What the merged document gets last: the request rules derive cannot state
/// ([`closed_variants`], [`cross_field_rules`]), and on every operation the errors the shared
/// layers can answer with the error shape, so that no status a client can meet is undocumented:
/// - secured operations: 401 (no or a bad secret) and 403 (the right is missing, named);
/// - operations with a path parameter: 404;
/// - operations with a body: 400 (not JSON), 413 (too large), 415 (not JSON's media type), 422
///   (a field refused, named); writes also 409 (the subject changed or is decided);
/// - every operation: 429 and 503 (overloaded or shutting down).
///
/// An operation's own description of a status is kept.
pub fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{Ref, RefOr, ResponseBuilder};
    closed_variants(&mut doc);
    cross_field_rules(&mut doc);
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content("application/json", utoipa::openapi::Content::new(Some(Ref::from_schema_name("ErrorOut"))))
                .build(),
        )
    };
    let global_security = doc.security.as_ref().is_some_and(|s| !s.is_empty());
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_param = path.contains('{');
        let ops = [
            (false, item.get.as_mut()),
            (true, item.put.as_mut()),
            (true, item.post.as_mut()),
            (true, item.delete.as_mut()),
            (true, item.patch.as_mut()),
        ];
        for (write, op) in ops {
            let Some(op) = op else { continue };
            let secured = op.security.as_ref().map_or(global_security, |s| !s.is_empty());
            let body = op.request_body.is_some();
            let params = op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || has_param;
            let mut add = |code: &str, what: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| error(what));
            };
            if secured {
                add("401", "No valid API key or token");
                add("403", "The key's scopes or the person's role lack the right named in the answer");
            }
            if has_param {
                add("404", "Not found");
            }
            if params {
                add("400", "A parameter could not be read");
                add("422", "A parameter is refused; `field` names it");
            }
            if body {
                add("400", "The body is not valid JSON");
                add("413", "The body is too large");
                add("415", "The body is not of a media type this operation takes");
                add("422", "A field is refused; `field` and `errors` name it");
            }
            if write {
                add("409", "The subject changed meanwhile or is already decided");
            }
            add("429", "Too many requests");
            add("503", "Overloaded or shutting down; try again");
        }
    }
    doc
}

/// The bodies read as a tagged enum with `deny_unknown_fields` (one object per tag value):
/// each variant takes no other properties, as the server refuses them.
const CLOSED_UNIONS: &[&str] = &[
    "LinkIn",
    "DecisionIn",
    "ReportIn",
    "ReviewIn",
    "PageIn",
    "DecideIn",
    "AnswerIn",
    "IdentityIn",
    "RectifyIn",
    "PhaseIn",
];

fn closed_variants(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(components) = doc.components.as_mut() else { return };
    for name in CLOSED_UNIONS {
        if let Some(RefOr::T(Schema::OneOf(one))) = components.schemas.get_mut(*name) {
            for v in &mut one.items {
                if let RefOr::T(Schema::Object(o)) = v {
                    o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

/// A component's property schema, when it is an object schema.
fn property<'a>(
    components: &'a mut utoipa::openapi::Components,
    schema: &str,
    prop: &str,
) -> Option<&'a mut utoipa::openapi::schema::Schema> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    match components.schemas.get_mut(schema)? {
        RefOr::T(Schema::Object(o)) => match o.properties.get_mut(prop)? {
            RefOr::T(s) => Some(s),
            RefOr::Ref(_) => None,
        },
        _ => None,
    }
}

/// Adds JSON Schema keywords to a component's schema (or one of its properties).
fn add_keywords(
    components: &mut utoipa::openapi::Components,
    schema: &str,
    prop: Option<&str>,
    keywords: serde_json::Value,
) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    let target = match prop {
        Some(p) => property(components, schema, p),
        None => match components.schemas.get_mut(schema) {
            Some(RefOr::T(s)) => Some(s),
            _ => None,
        },
    };
    let extensions = match target {
        Some(Schema::Object(o)) => o.extensions.get_or_insert_with(Default::default),
        Some(Schema::Array(a)) => a.extensions.get_or_insert_with(Default::default),
        _ => return,
    };
    if let serde_json::Value::Object(map) = keywords {
        extensions.extend(map);
    }
}

/// Rules the derived schemas cannot state (between fields, on maps, on an array's items as a
/// whole), added as JSON Schema keywords.
fn cross_field_rules(doc: &mut utoipa::openapi::OpenApi) {
    use serde_json::json;
    let Some(c) = doc.components.as_mut() else { return };
    // `POST /cases`: a `source_ref` (not blank) needs a `source` (not blank).
    add_keywords(
        c,
        "OpenIn",
        None,
        json!({"anyOf": [
            {"properties": {"source_ref": {"type": ["string", "null"], "pattern": "^[\\s\\x00-\\x1f\\x7f-\\x9f]*$"}}},
            {"required": ["source"], "properties": {"source": {"type": "string", "pattern": "[^\\s\\x00-\\x1f\\x7f-\\x9f]"}}}
        ]}),
    );
    // `POST /orders`: the shop's own signals.
    add_keywords(
        c,
        "OrderIn",
        Some("attributes"),
        json!({
            "maxProperties": 200,
            "propertyNames": {"pattern": "^[A-Za-z0-9_]{1,64}$"},
            "additionalProperties": {"type": ["string", "number", "boolean", "null"], "maxLength": 1000, "pattern": "^([^<\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]|<+[^<A-Za-z/!?\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff])*<*$"}
        }),
    );
    // `POST /events`: an order or a customer (an empty id is none), and at most 100 fields of data.
    add_keywords(
        c,
        "EventIn",
        None,
        json!({"anyOf": [
            {"required": ["order_id"], "properties": {"order_id": {"type": "string", "minLength": 1}}},
            {"required": ["customer_id"], "properties": {"customer_id": {"type": "string", "minLength": 1}}}
        ]}),
    );
    add_keywords(c, "EventIn", Some("data"), json!({"maxProperties": 100}));
    // A scorecard holds one criterion or more, in any of its sections.
    add_keywords(c, "Scorecard", Some("sections"), json!({"contains": {"properties": {"criteria": {"minItems": 1}}}}));
}

pub async fn document() -> impl IntoResponse {
    Json(super::api_doc())
}
