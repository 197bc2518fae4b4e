//! Data-subject requests: entered by API, by staff or on the public page; duplicates of an open
//! request linked to it; identity verification (a code to the e-mail on file, or staff with
//! evidence); the clock's moves (pause while identity information is awaited, extension within
//! the first month with a reason); refusal, withdrawal and completion.

use super::{clock_of, invalid, right_of, status_of};
use crate::audit::entry;
use crate::cases::{OpenCase, clean_text};
use crate::{Actor, PrivacyIntake, PrivacyViewer, PrivacyWorker, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Duration, Utc};
use riskdesk_domain::CustomerId;
use riskdesk_domain::privacy::clock::{RequestClock, local_date};
use riskdesk_domain::privacy::{CHANNELS, Identity, Right, Status};
use riskdesk_store::StoreError;
use riskdesk_store::changes::{Effect, PrivacyChange};
use riskdesk_store::privacy::{
    JobRecord, Notification, OutcomeRow, Person, RequestEvent, RequestFilter, RequestRecord, Section,
};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/privacy/requests`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestIn {
    /// `access`, `rectification`, `erasure`, `restriction`, `portability` or `objection`.
    pub right: String,
    pub customer_id: String,
    /// When the request reached the controller (RFC 3339, not in the future).
    pub received_at: String,
    /// `api`, `email`, `phone`, `letter`, `web_form` or `helpdesk`.
    pub channel: String,
    /// What the person asked for in their words (a rectification's correct values).
    #[serde(default)]
    pub details: String,
}

/// What a new request became.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub request_id: String,
    pub status: String,
    pub case_id: Option<String>,
    /// The last day to answer, in the controller's zone.
    pub due_on: String,
    /// A request of the same right from the same person was open: this receipt joined it.
    pub duplicate: bool,
    pub flags: Vec<String>,
}

/// A request as its pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub record: RequestRecord,
    pub right_label: &'static str,
    pub status_label: &'static str,
    pub due_on: String,
    /// Days left (0 on the due day, negative when overdue); none while paused.
    pub days_left: Option<i64>,
    pub paused: bool,
    /// The last day an extension may be recorded.
    pub extend_by: String,
    pub open: bool,
}

impl RequestView {
    pub fn of(r: RequestRecord, today: chrono::NaiveDate, roll: bool) -> Self {
        let c = clock_of(&r);
        let status = status_of(&r);
        Self {
            right_label: right_of(&r).label(),
            status_label: status.label(),
            due_on: c.due_on(today, roll).to_string(),
            days_left: if status.is_open() { c.days_left(today, roll) } else { None },
            paused: c.paused_since.is_some(),
            extend_by: c.first_month_ends(today).to_string(),
            open: status.is_open(),
            record: r,
        }
    }

    pub fn overdue(&self) -> bool {
        self.days_left.is_some_and(|d| d < 0)
    }
}

/// A request with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub view: RequestView,
    pub events: Vec<RequestEvent>,
    pub jobs: Vec<JobRecord>,
    pub outcomes: Vec<OutcomeRow>,
    pub notifications: Vec<Notification>,
    /// The newest finished export, if any.
    pub export_job: Option<String>,
}

pub(crate) fn event(r: &str, actor: &Actor, kind: &str, text: impl Into<String>, at: DateTime<Utc>) -> PrivacyChange {
    PrivacyChange::Event(RequestEvent {
        id: 0,
        request_id: r.to_owned(),
        at,
        actor: actor.id.clone(),
        kind: kind.into(),
        text: text.into(),
    })
}

impl Service {
    pub(crate) fn request_view(&self, r: RequestRecord) -> RequestView {
        RequestView::of(r, self.privacy_today(), self.privacy_settings().roll_weekends)
    }

    pub(crate) async fn request_record(&self, id: &str) -> ServiceResult<RequestRecord> {
        self.store().privacy_request(id.trim()).await?.ok_or(ServiceError::NotFound("privacy request"))
    }

    /// Enters a request. A request of the same right from the same person that is still open
    /// takes this receipt as a duplicate (counted and noted) and is answered instead.
    pub async fn submit_privacy_request(&self, cap: &PrivacyIntake, input: RequestIn) -> ServiceResult<Submitted> {
        self.submit_request_as(cap.actor(), input).await
    }

    pub(crate) async fn submit_request_as(&self, actor: &Actor, input: RequestIn) -> ServiceResult<Submitted> {
        let right = Right::parse(input.right.trim()).ok_or_else(|| {
            invalid("right", "must be access, rectification, erasure, restriction, portability or objection")
        })?;
        let customer =
            CustomerId::parse(input.customer_id.trim(), "customer_id").map_err(|e| invalid("customer_id", e.detail))?;
        let received_at = DateTime::parse_from_rfc3339(input.received_at.trim())
            .map_err(|_| invalid("received_at", "must be a time as RFC 3339, e.g. 2026-12-01T09:30:00+01:00"))?
            .with_timezone(&Utc);
        let now = self.now();
        if received_at > now + Duration::minutes(5) {
            return Err(invalid("received_at", "must not be in the future"));
        }
        if received_at < now - Duration::days(366) {
            return Err(invalid("received_at", "is more than a year ago"));
        }
        let channel = input.channel.trim();
        if !CHANNELS.contains(&channel) {
            return Err(invalid("channel", format!("must be one of {}", CHANNELS.join(", "))));
        }
        let details = clean_text("details", &input.details, 4000, false)?;
        let cid = customer.as_str().to_owned();

        // A duplicate of an open request is linked, not run again.
        let open = self
            .store()
            .privacy_requests(&RequestFilter {
                statuses: None,
                customer_id: Some(cid.clone()),
                right: Some(right.as_str().into()),
                limit: 1,
            })
            .await?;
        if let Some(existing) = open.into_iter().next() {
            let next = RequestRecord {
                duplicates: existing.duplicates + 1,
                updated_at: now,
                version: existing.version + 1,
                ..existing.clone()
            };
            let audit = entry(
                &actor.id,
                "privacy.request.duplicate",
                format!("privacy_request:{}", existing.request_id),
                serde_json::json!({"channel": channel, "received_at": received_at}),
                now,
            );
            self.commit_audited(
                &[
                    Effect::Privacy(PrivacyChange::Request {
                        request: Box::new(next.clone()),
                        expected_version: existing.version,
                    }),
                    Effect::Privacy(event(
                        &existing.request_id,
                        actor,
                        "duplicate",
                        format!(
                            "The same request arrived again by {channel} (received {}); it joins this one.",
                            received_at.format("%Y-%m-%d %H:%M UTC")
                        ),
                        now,
                    )),
                ],
                &[audit],
            )
            .await?;
            let v = self.request_view(next);
            return Ok(Submitted {
                request_id: v.record.request_id.clone(),
                status: v.record.status.clone(),
                case_id: v.record.case_id.clone(),
                due_on: v.due_on,
                duplicate: true,
                flags: v.record.flags,
            });
        }

        let flags = self.open_claims(&cid).await?;
        let request_id = format!("dsr_{}", ulid::Ulid::new());
        let clock = RequestClock::new(local_date(received_at, self.privacy_zone()));
        let due = clock.due_on(self.privacy_today(), self.privacy_settings().roll_weekends);
        let case = self
            .open_case_as(
                actor,
                OpenCase {
                    kind: "privacy_request".into(),
                    title: format!("{} request of customer {cid}", right.label()),
                    description: format!(
                        "Received {} by {channel}; answer by {due}. Request page: /privacy/requests/{request_id}{}",
                        clock.received_on,
                        if flags.is_empty() { String::new() } else { format!(". Open: {}", flags.join(", ")) }
                    ),
                    customer_id: Some(cid.clone()),
                    tier: Some(3),
                    ..Default::default()
                },
                Some(format!("privacy:{request_id}")),
                Vec::new(),
            )
            .await?;
        let record = RequestRecord {
            request_id: request_id.clone(),
            case_id: Some(case.case().id.clone()),
            customer_id: cid.clone(),
            right: right.as_str().into(),
            channel: channel.into(),
            status: Status::Received.as_str().into(),
            received_at,
            received_on: clock.received_on.to_string(),
            months: 1,
            paused_days: 0,
            paused_since: None,
            extension_reason: None,
            identity: Identity::Unverified.as_str().into(),
            identity_method: None,
            identity_evidence: None,
            code_hash: None,
            code_expires_at: None,
            details,
            answer: None,
            flags: flags.clone(),
            duplicates: 0,
            created_by: actor.id.clone(),
            created_at: now,
            updated_at: now,
            closed_at: None,
            warned_days: None,
            version: 1,
        };
        let audit = entry(
            &actor.id,
            "privacy.request.create",
            format!("privacy_request:{request_id}"),
            serde_json::json!({"right": right.as_str(), "customer": cid, "channel": channel, "due_on": due, "flags": flags}),
            now,
        );
        self.commit_audited(
            &[
                Effect::Privacy(PrivacyChange::Request { request: Box::new(record.clone()), expected_version: 0 }),
                Effect::Privacy(event(
                    &request_id,
                    actor,
                    "received",
                    format!("{} received by {channel}; due {due}.", right.label()),
                    now,
                )),
            ],
            &[audit],
        )
        .await?;
        Ok(Submitted {
            request_id,
            status: record.status,
            case_id: record.case_id,
            due_on: due.to_string(),
            duplicate: false,
            flags,
        })
    }

    /// The open cases and disputes about the person that can decide a legal claim.
    pub(crate) async fn open_claims(&self, customer_id: &str) -> ServiceResult<Vec<String>> {
        let who = Person { customer_id: customer_id.to_owned(), match_keys: Vec::new() };
        let mut out = Vec::new();
        for s in [Section::Cases, Section::Disputes] {
            let mut after = String::new();
            loop {
                let rows = self.store().person_rows(s, &who, &after, 500).await?;
                let Some(last) = rows.last() else { break };
                after = last.key.clone();
                out.extend(rows.into_iter().filter_map(|r| r.open));
            }
        }
        Ok(out)
    }

    pub async fn privacy_request(&self, cap: &PrivacyViewer, id: &str) -> ServiceResult<RequestView> {
        let _ = cap;
        Ok(self.request_view(self.request_record(id).await?))
    }

    /// `GET` of a request for whoever entered requests (a shop's portal with the `privacy` scope).
    pub async fn privacy_request_for_intake(&self, cap: &PrivacyIntake, id: &str) -> ServiceResult<RequestView> {
        let _ = cap;
        Ok(self.request_view(self.request_record(id).await?))
    }

    pub async fn privacy_request_detail(&self, cap: &PrivacyViewer, id: &str) -> ServiceResult<RequestDetail> {
        let _ = cap;
        let r = self.request_record(id).await?;
        let jobs = self.store().privacy_jobs_of(&r.request_id).await?;
        let export_job = jobs.iter().rev().find(|j| j.kind == "export" && j.status == "done").map(|j| j.job_id.clone());
        Ok(RequestDetail {
            events: self.store().privacy_request_events(&r.request_id).await?,
            outcomes: self.store().privacy_outcomes(&r.request_id).await?,
            notifications: self.store().privacy_notifications(&r.request_id).await?,
            jobs,
            export_job,
            view: self.request_view(r),
        })
    }

    /// Requests by days left (open ones; `all` adds the closed).
    pub async fn privacy_requests(
        &self,
        cap: &PrivacyViewer,
        all: bool,
        customer: Option<String>,
    ) -> ServiceResult<Vec<RequestView>> {
        let _ = cap;
        let rows = self
            .store()
            .privacy_requests(&RequestFilter {
                statuses: if all { Some(Vec::new()) } else { None },
                customer_id: customer.filter(|c| !c.trim().is_empty()),
                right: None,
                limit: 1000,
            })
            .await?;
        let mut v: Vec<RequestView> = rows.into_iter().map(|r| self.request_view(r)).collect();
        v.sort_by_key(|r| (!r.open, r.days_left.unwrap_or(i64::MAX), r.record.received_at));
        Ok(v)
    }

    /// Replaces a request after `change`, with an event and an audit entry, in one transaction.
    pub(crate) async fn move_request(
        &self,
        actor: &Actor,
        id: &str,
        action: &str,
        text: String,
        change: impl FnOnce(&mut RequestRecord) -> ServiceResult<()>,
        extra: Vec<Effect>,
    ) -> ServiceResult<RequestView> {
        let cur = self.request_record(id).await?;
        let mut next = cur.clone();
        change(&mut next)?;
        let now = self.now();
        if !status_of(&next).is_open() && next.closed_at.is_none() {
            next.closed_at = Some(now);
        }
        next.updated_at = now;
        next.version = cur.version + 1;
        let audit = entry(
            &actor.id,
            &format!("privacy.request.{action}"),
            format!("privacy_request:{}", cur.request_id),
            serde_json::json!({"status": next.status, "text": text}),
            now,
        );
        let mut effects = vec![
            Effect::Privacy(PrivacyChange::Request { request: Box::new(next.clone()), expected_version: cur.version }),
            Effect::Privacy(event(&cur.request_id, actor, action, text, now)),
        ];
        effects.extend(extra);
        match self.commit_audited(&effects, &[audit]).await {
            Err(ServiceError::Store(StoreError::Conflict(_))) => {
                Err(ServiceError::Conflict("the request changed meanwhile; reload and try again".into()))
            }
            other => other.map(|()| self.request_view(next)),
        }
    }

    fn to_status(r: &mut RequestRecord, next: Status) -> ServiceResult<()> {
        let cur = status_of(r);
        if cur == next {
            return Ok(());
        }
        if !cur.may_become(next) {
            return Err(ServiceError::Conflict(format!(
                "a request that is {} cannot become {}",
                cur.label().to_lowercase(),
                next.label().to_lowercase()
            )));
        }
        r.status = next.as_str().into();
        Ok(())
    }

    /// Staff verified the person's identity, with the evidence (a call-back to the number on
    /// file, an order detail only they know). Restarts a paused clock.
    pub async fn verify_privacy_identity(
        &self,
        cap: &PrivacyWorker,
        id: &str,
        evidence: &str,
    ) -> ServiceResult<RequestView> {
        let evidence = clean_text("evidence", evidence, 1000, true)?;
        if evidence.chars().count() < 10 {
            return Err(invalid("evidence", "say how the identity was established (10 characters or more)"));
        }
        let today = self.privacy_today();
        self.move_request(
            cap.actor(),
            id,
            "identity",
            format!("Identity verified by staff: {evidence}"),
            |r| {
                if r.identity == Identity::Verified.as_str() {
                    return Err(ServiceError::Conflict("the identity is verified already".into()));
                }
                verified(r, today, "staff", Some(evidence.clone()))
            },
            Vec::new(),
        )
        .await
    }

    /// Sends a code to the e-mail on file and stops the clock until it is confirmed.
    pub async fn send_privacy_code(&self, cap: &PrivacyWorker, id: &str) -> ServiceResult<RequestView> {
        self.send_code_as(cap.actor(), id).await
    }

    pub(crate) async fn send_code_as(&self, actor: &Actor, id: &str) -> ServiceResult<RequestView> {
        let r = self.request_record(id).await?;
        if r.identity == Identity::Verified.as_str() {
            return Err(ServiceError::Conflict("the identity is verified already".into()));
        }
        let who = Person { customer_id: r.customer_id.clone(), match_keys: Vec::new() };
        let email = self
            .store()
            .person_rows(Section::Customer, &who, "", 1)
            .await?
            .into_iter()
            .find_map(|row| row.data["email"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                ServiceError::Conflict("no e-mail address is on file for this customer: verify by staff instead".into())
            })?;
        let code = format!("{:06}", rand_code());
        let hash = self.code_hash(&r.request_id, &code);
        let expires = self.now() + Duration::days(7);
        let today = self.privacy_today();
        // Sent first: a mail server that refuses changes nothing.
        self.send_identity_mail(&email, &r.request_id, &code).await?;
        self.move_request(
            actor,
            id,
            "identity",
            "A verification code was sent to the e-mail address on file; the clock stops until it is confirmed.".into(),
            |x| {
                x.code_hash = Some(hash.clone());
                x.code_expires_at = Some(expires);
                x.identity = Identity::CodeSent.as_str().into();
                ask_identity(x, today)
            },
            Vec::new(),
        )
        .await
    }

    fn code_hash(&self, request_id: &str, code: &str) -> String {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(self.audit_key()).expect("HMAC takes any key");
        mac.update(b"privacy-code\0");
        mac.update(request_id.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The person confirms the code they received (on the public page, or read out to staff).
    pub async fn confirm_privacy_code(&self, id: &str, code: &str) -> ServiceResult<RequestView> {
        let r = self.request_record(id).await?;
        let ok = r.code_hash.as_deref() == Some(self.code_hash(&r.request_id, code.trim()).as_str())
            && r.code_expires_at.is_some_and(|t| t > self.now());
        if !ok {
            return Err(invalid("code", "the code is wrong or has expired"));
        }
        let today = self.privacy_today();
        self.move_request(
            &Actor::other("public:privacy"),
            id,
            "identity",
            "Identity verified by the code sent to the e-mail on file.".into(),
            |x| {
                x.code_hash = None;
                x.code_expires_at = None;
                verified(x, today, "email_code", None)
            },
            Vec::new(),
        )
        .await
    }

    /// Asks the person for identity information (Art. 12(6)): the clock stops.
    pub async fn ask_privacy_identity(&self, cap: &PrivacyWorker, id: &str, note: &str) -> ServiceResult<RequestView> {
        let note = clean_text("note", note, 1000, true)?;
        let today = self.privacy_today();
        self.move_request(
            cap.actor(),
            id,
            "paused",
            format!("Identity information asked for; the clock stops: {note}"),
            |r| ask_identity(r, today),
            Vec::new(),
        )
        .await
    }

    /// Extends by one or two months, with the reason told to the person within the first month.
    pub async fn extend_privacy_request(
        &self,
        cap: &PrivacyWorker,
        id: &str,
        months: u32,
        reason: &str,
    ) -> ServiceResult<RequestView> {
        let reason = clean_text("reason", reason, 1000, true)?;
        if reason.chars().count() < 10 {
            return Err(invalid("reason", "give the reason the person is told (10 characters or more)"));
        }
        let today = self.privacy_today();
        let roll = self.privacy_settings().roll_weekends;
        self.move_request(
            cap.actor(),
            id,
            "extended",
            format!("Extended by {months} month(s); the person was told why: {reason}"),
            |r| {
                let mut c = clock_of(r);
                c.extend(months, today).map_err(|e| invalid("months", e))?;
                r.months = i64::from(c.months);
                r.extension_reason = Some(reason.clone());
                if status_of(r) != Status::AwaitingIdentity {
                    Self::to_status(r, Status::Extended)?;
                }
                let _ = c.due_on(today, roll);
                Ok(())
            },
            Vec::new(),
        )
        .await
    }

    /// Refuses with the reason (Art. 12(4), 12(5)); the person is told of the right to complain.
    pub async fn refuse_privacy_request(
        &self,
        cap: &PrivacyWorker,
        id: &str,
        reason: &str,
    ) -> ServiceResult<RequestView> {
        let reason = clean_text("reason", reason, 2000, true)?;
        if reason.chars().count() < 10 {
            return Err(invalid("reason", "give the reason the person is told (10 characters or more)"));
        }
        self.move_request(
            cap.actor(),
            id,
            "refused",
            format!("Refused: {reason}. The person was told of the right to complain to a supervisory authority."),
            |r| {
                Self::to_status(r, Status::Refused)?;
                r.answer = Some(reason.clone());
                Ok(())
            },
            Vec::new(),
        )
        .await
    }

    pub async fn withdraw_privacy_request(
        &self,
        cap: &PrivacyWorker,
        id: &str,
        note: &str,
    ) -> ServiceResult<RequestView> {
        let note = clean_text("note", note, 1000, false)?;
        self.move_request(
            cap.actor(),
            id,
            "withdrawn",
            format!("Withdrawn by the person. {note}"),
            |r| Self::to_status(r, Status::Withdrawn),
            Vec::new(),
        )
        .await
    }

    /// Answers the request: completed, or partly withheld with what was withheld and why.
    pub async fn complete_privacy_request(
        &self,
        cap: &PrivacyWorker,
        id: &str,
        answer: &str,
        withheld: bool,
    ) -> ServiceResult<RequestView> {
        let answer = clean_text("answer", answer, 4000, true)?;
        let r = self.request_record(id).await?;
        if r.identity != Identity::Verified.as_str() {
            return Err(ServiceError::Conflict("verify the person's identity before answering".into()));
        }
        let next = if withheld { Status::PartlyWithheld } else { Status::Completed };
        self.move_request(
            cap.actor(),
            id,
            "completed",
            format!("{}: {answer}", next.label()),
            |r| {
                Self::to_status(r, next)?;
                r.answer = Some(answer.clone());
                Ok(())
            },
            Vec::new(),
        )
        .await
    }

    /// Adds a note to the request's timeline.
    pub async fn note_privacy_request(&self, cap: &PrivacyWorker, id: &str, note: &str) -> ServiceResult<()> {
        let note = clean_text("note", note, 4000, true)?;
        let r = self.request_record(id).await?;
        let now = self.now();
        let audit = entry(
            &cap.actor().id,
            "privacy.request.note",
            format!("privacy_request:{}", r.request_id),
            serde_json::json!({}),
            now,
        );
        self.commit_audited(&[Effect::Privacy(event(&r.request_id, cap.actor(), "note", note, now))], &[audit]).await
    }

    /// Sends each warning day once for open requests nearing their due day.
    pub async fn warn_privacy_deadlines(&self) -> ServiceResult<usize> {
        let cfg = self.privacy_settings();
        let actor = Actor::other("system:privacy");
        let mut n = 0;
        for v in self.privacy_requests(&PrivacyViewer::local(actor.clone()), false, None).await? {
            let Some(left) = v.days_left else { continue };
            let Some(&mark) = cfg.warn_days.iter().filter(|d| left <= **d).min() else { continue };
            let mark = if left < 0 { -1 } else { mark };
            if v.record.warned_days.is_some_and(|w| w <= mark) {
                continue;
            }
            let text = if left < 0 {
                format!("Overdue by {} day(s): due {}.", -left, v.due_on)
            } else {
                format!("{left} day(s) left: due {}.", v.due_on)
            };
            let mut extra = Vec::new();
            if let Some(case) = &v.record.case_id {
                extra.push(Effect::Cases(riskdesk_store::changes::CaseChange::Event(
                    riskdesk_store::cases::CaseEvent {
                        id: 0,
                        case_id: case.clone(),
                        at: self.now(),
                        actor: actor.id.clone(),
                        kind: "sla".into(),
                        text: format!("Privacy request {}: {text}", v.record.request_id),
                    },
                )));
            }
            if self
                .move_request(
                    &actor,
                    &v.record.request_id,
                    "warning",
                    text,
                    |r| {
                        r.warned_days = Some(mark);
                        Ok(())
                    },
                    extra,
                )
                .await
                .is_ok()
            {
                n += 1;
            }
        }
        Ok(n)
    }
}

fn verified(
    r: &mut RequestRecord,
    today: chrono::NaiveDate,
    method: &str,
    evidence: Option<String>,
) -> ServiceResult<()> {
    r.identity = Identity::Verified.as_str().into();
    r.identity_method = Some(method.into());
    r.identity_evidence = evidence;
    let mut c = clock_of(r);
    if c.paused_since.is_some() {
        c.resume(today).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        r.paused_days = c.paused_days;
        r.paused_since = None;
    }
    match status_of(r) {
        Status::Received | Status::AwaitingIdentity => {
            r.status = if r.months > 1 { Status::Extended } else { Status::InProgress }.as_str().into()
        }
        s if s.is_open() => {}
        s => return Err(ServiceError::Conflict(format!("the request is {}", s.label().to_lowercase()))),
    }
    Ok(())
}

fn ask_identity(r: &mut RequestRecord, today: chrono::NaiveDate) -> ServiceResult<()> {
    let cur = status_of(r);
    if cur != Status::AwaitingIdentity {
        if !cur.may_become(Status::AwaitingIdentity) {
            return Err(ServiceError::Conflict(format!(
                "a request that is {} waits for nothing",
                cur.label().to_lowercase()
            )));
        }
        r.status = Status::AwaitingIdentity.as_str().into();
    }
    let mut c = clock_of(r);
    if c.paused_since.is_none() {
        c.pause(today).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        r.paused_since = c.paused_since.map(|d| d.to_string());
    }
    Ok(())
}

fn rand_code() -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    u32::from_le_bytes(b) % 1_000_000
}

impl Service {
    /// Sends the verification code through the installation's mail server (`kpis.reports.smtp_url`).
    async fn send_identity_mail(&self, to: &str, request_id: &str, code: &str) -> ServiceResult<()> {
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let cfg = self.kpi_settings().reports;
        if cfg.smtp_url.is_empty() {
            return Err(ServiceError::Conflict(
                "no mail server is configured (kpis.reports.smtp_url): verify by staff instead".into(),
            ));
        }
        let msg = Message::builder()
            .from(cfg.from.parse().map_err(|e| ServiceError::Conflict(format!("kpis.reports.from: {e}")))?)
            .to(to.parse().map_err(|_| ServiceError::Conflict("the e-mail address on file cannot receive mail".into()))?)
            .subject("Your data protection request: verification code")
            .body(format!(
                "We received a data protection request in your name ({request_id}).\n\nYour verification code is {code}. \
                 It is valid for seven days. If you did not make this request, ignore this message.\n"
            ))
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.smtp_url)
            .map_err(|e| ServiceError::Conflict(format!("kpis.reports.smtp_url: {e}")))?
            .build();
        mailer
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| ServiceError::Conflict(format!("the code could not be sent: {e}")))
    }
}
