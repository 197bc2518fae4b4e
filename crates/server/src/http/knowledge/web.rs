//! The knowledge pages: list and search, a page (any version) with acknowledgements, editing.

use crate::http::error::{PageError, PageResult};
use crate::http::extract::{Action, Page};
use crate::http::page::{Nav, fmt_time};
use crate::http::state::{AppState, St};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use riskdesk_domain::cases::KINDS;
use riskdesk_domain::knowledge::PageKind;
use riskdesk_service::knowledge::{KnowledgePage, PageInput, PageView};
use riskdesk_service::{KnowledgeEditor, ServiceError, Someone};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/knowledge", get(list))
        .route("/knowledge/new", get(new_page).post(create))
        .route("/knowledge/{slug}", get(show).post(save))
        .route("/knowledge/{slug}/edit", get(edit))
        .route("/knowledge/{slug}/ack", post(ack))
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge/list.html")]
struct ListPage {
    nav: Nav,
    pages: Vec<(KnowledgePage, &'static str, String)>,
    q: String,
    kind: String,
    can_edit: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
}

fn kind_label(k: &str) -> &'static str {
    PageKind::parse(k).map_or("Page", |k| k.label())
}

async fn list(State(st): St, Page { cap, who }: Page<Someone>, Query(q): Query<ListQuery>) -> PageResult<impl IntoResponse> {
    let kind = q.kind.unwrap_or_default();
    let pages = st.service.pages(&cap, Some(kind.as_str()).filter(|k| !k.is_empty()), q.q.as_deref()).await?;
    Ok(ListPage {
        nav: Nav::of(&who, "knowledge"),
        pages: pages.into_iter().map(|p| (kind_label(&p.kind), fmt_time(p.created_at, who.time_zone()), p)).map(|(l, t, p)| (p, l, t)).collect(),
        q: q.q.unwrap_or_default(),
        kind,
        can_edit: who.grant::<KnowledgeEditor>().is_some(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge/page.html")]
struct ShowPage {
    nav: Nav,
    v: PageView,
    kind: &'static str,
    can_edit: bool,
    acked: bool,
}

#[derive(Deserialize)]
struct VersionQuery {
    v: Option<i64>,
}

async fn show(State(st): St, Page { cap, who }: Page<Someone>, Path(slug): Path<String>, Query(q): Query<VersionQuery>) -> PageResult<impl IntoResponse> {
    let v = st.service.page(&cap, &slug, q.v).await.map_err(|e| match e {
        ServiceError::NotFound(_) => PageError::not_found(),
        e => e.into(),
    })?;
    let me = who.user().username.clone();
    Ok(ShowPage {
        nav: Nav::of(&who, "knowledge"),
        kind: kind_label(&v.page.kind),
        acked: v.acknowledged.iter().any(|a| a.username == me),
        can_edit: who.grant::<KnowledgeEditor>().is_some(),
        v,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge/edit.html")]
struct EditPage {
    nav: Nav,
    slug: String,
    kind: String,
    title: String,
    body: String,
    case_kind: String,
    base_version: i64,
    kinds: Vec<(&'static str, &'static str)>,
    case_kinds: Vec<(&'static str, &'static str)>,
}

async fn new_page(Page { who, .. }: Page<KnowledgeEditor>) -> PageResult<impl IntoResponse> {
    Ok(EditPage {
        nav: Nav::of(&who, "knowledge"),
        slug: String::new(),
        kind: "sop".into(),
        title: String::new(),
        body: String::new(),
        case_kind: String::new(),
        base_version: 0,
        kinds: PageKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
        case_kinds: KINDS.iter().map(|k| (k.code, k.label)).collect(),
    })
}

async fn edit(State(st): St, Page { who, .. }: Page<KnowledgeEditor>, Path(slug): Path<String>) -> PageResult<impl IntoResponse> {
    let someone = who.grant::<Someone>().ok_or_else(PageError::forbidden)?;
    let v = st.service.page(&someone, &slug, None).await?;
    Ok(EditPage {
        nav: Nav::of(&who, "knowledge"),
        slug: v.page.slug,
        kind: v.page.kind,
        title: v.page.title,
        body: v.page.body,
        case_kind: v.page.case_kind.unwrap_or_default(),
        base_version: v.page.version,
        kinds: PageKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
        case_kinds: KINDS.iter().map(|k| (k.code, k.label)).collect(),
    })
}

#[derive(Deserialize)]
struct SaveForm {
    kind: String,
    title: String,
    body: String,
    #[serde(default)]
    case_kind: String,
    #[serde(default)]
    note: String,
    base_version: i64,
    /// The address of a new page (posted to `/knowledge/new`).
    #[serde(default)]
    slug: String,
}

async fn create(st: St, a: Action<KnowledgeEditor, SaveForm>) -> PageResult<Response> {
    let slug = a.form.slug.trim().to_owned();
    save(st, Path(slug), a).await
}

async fn save(State(st): St, Path(slug): Path<String>, a: Action<KnowledgeEditor, SaveForm>) -> PageResult<Response> {
    let f = a.form;
    let input = PageInput {
        kind: f.kind,
        title: f.title,
        body: f.body,
        case_kind: Some(f.case_kind).filter(|c| !c.is_empty()),
        note: f.note,
        base_version: f.base_version,
    };
    let p = st.service.save_page(&a.cap, &slug, input).await?;
    Ok(Redirect::to(&format!("/knowledge/{}", p.slug)).into_response())
}

#[derive(Deserialize)]
struct AckForm {
    version: i64,
}

async fn ack(State(st): St, Path(slug): Path<String>, a: Action<Someone, AckForm>) -> PageResult<Response> {
    st.service.acknowledge_page(&a.cap, &slug, a.form.version).await?;
    Ok(Redirect::to(&format!("/knowledge/{slug}")).into_response())
}
