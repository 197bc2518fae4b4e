//! The demo's privacy work: requests at every point of their clock: an erasure due in three
//! days with its plan ready to propose, an access request whose package is built and waits for
//! release, one waiting for identity (clock stopped), an extended one, one overdue, a new
//! rectification; a breach 30 hours into its 72; a sweep run.

use chrono::Duration;
use riskdesk_domain::Role;
use riskdesk_service::audit::Actor;
use riskdesk_service::privacy::RequestIn;
use riskdesk_service::privacy::breaches::{BreachIn, PhaseIn};
use riskdesk_service::{PrivacyIntake, PrivacyViewer, PrivacyWorker, Service};

pub async fn seed(service: &Service) -> anyhow::Result<()> {
    let pia = Actor::user("pia", Role::PrivacyOfficer);
    let viewer = PrivacyViewer::local(pia.clone());
    if !service.privacy_requests(&viewer, true, None).await?.is_empty() {
        return Ok(());
    }
    let intake = PrivacyIntake::local(pia.clone());
    let work = PrivacyWorker::local(pia.clone());
    let now = service.now();
    let enter = |right: &str, customer: &str, days: i64, channel: &str, details: &str| RequestIn {
        right: right.into(),
        customer_id: customer.into(),
        received_at: (now - Duration::days(days) - Duration::hours(2)).to_rfc3339(),
        channel: channel.into(),
        details: details.into(),
    };
    // Erasure due in a few days, identity checked: the plan is ready to propose.
    let e = service
        .submit_privacy_request(
            &intake,
            enter("erasure", "C-00042", 27, "email", "Please delete my account and all my data."),
        )
        .await?;
    service
        .verify_privacy_identity(
            &work,
            &e.request_id,
            "Replied from the e-mail address on file; order number confirmed",
        )
        .await?;
    // Access: package built, release waits for a second person.
    let a = service
        .submit_privacy_request(&intake, enter("access", "C-00017", 24, "web_form", "What do you store about me?"))
        .await?;
    service.verify_privacy_identity(&work, &a.request_id, "Call-back to the phone number on file").await?;
    service.start_privacy_export(&work, &a.request_id).await?;
    service.run_privacy_jobs().await?;
    service.propose_privacy_release(&work, &a.request_id, "Package checked: orders, events, one case.").await?;
    // Waiting for identity information: the clock stands still.
    let w = service
        .submit_privacy_request(
            &intake,
            enter("access", "C-00103", 6, "phone", "Caller asked for a copy of their data."),
        )
        .await?;
    service
        .ask_privacy_identity(
            &work,
            &w.request_id,
            "Asked for the order number of the last purchase and the billing postcode",
        )
        .await?;
    // Extended within the first month, with the reason told.
    let x = service
        .submit_privacy_request(
            &intake,
            enter("portability", "C-00256", 20, "email", "Send my order history in a machine-readable format."),
        )
        .await?;
    service.verify_privacy_identity(&work, &x.request_id, "Replied from the e-mail address on file").await?;
    service
        .extend_privacy_request(
            &work,
            &x.request_id,
            1,
            "Orders from three marketplaces must be collected from their systems",
        )
        .await?;
    // Overdue: received 35 days ago, still unanswered.
    service
        .submit_privacy_request(
            &intake,
            enter("objection", "C-00311", 35, "letter", "I object to profiling for fraud prevention."),
        )
        .await?;
    // New, not yet looked at.
    service
        .submit_privacy_request(
            &intake,
            enter("rectification", "C-00404", 2, "email", "My surname is misspelt: it is Schäfer, not Schafer."),
        )
        .await?;
    // A breach 30 hours after awareness, assessed, the authority not yet told.
    let b = service
        .register_breach(
            &work,
            BreachIn {
                title: "Order confirmation e-mails sent with another customer's address block".into(),
                description: "A template change mixed up the shipping address block for 14 orders.".into(),
                aware_at: Some((now - Duration::hours(30)).to_rfc3339()),
                occurred_at: Some((now - Duration::hours(40)).to_rfc3339()),
                people_affected: 14,
                categories: "names, shipping addresses".into(),
            },
            None,
        )
        .await?;
    service
        .breach_phase(
            &work,
            &b.record.breach_id,
            PhaseIn {
                phase: "assessed".into(),
                text: "Addresses of private persons disclosed to strangers: a risk, not high (no payment data).".into(),
                risk: Some("risk".into()),
                people_affected: None,
            },
        )
        .await?;
    service
        .breach_phase(
            &work,
            &b.record.breach_id,
            PhaseIn { phase: "contained".into(), text: "Template reverted.".into(), risk: None, people_affected: None },
        )
        .await?;
    service.start_sweep(&work).await?;
    service.run_privacy_jobs().await?;
    eprintln!("privacy: 6 requests on their clocks, 1 breach in its 72 hours, a sweep run");
    Ok(())
}
