//! The demo's knowledge base: playbooks for the main kinds of case (their task lists become the
//! cases' checklists), SOPs and an FAQ, one of them in a second version that not everyone has
//! acknowledged yet.

use riskdesk_domain::Role;
use riskdesk_service::audit::Actor;
use riskdesk_service::knowledge::PageInput;
use riskdesk_service::{KnowledgeEditor, Service, Someone};

const PAGES: &[(&str, &str, Option<&str>, &str, &str)] = &[
    (
        "ato-playbook",
        "playbook",
        Some("account_takeover"),
        "Account takeover",
        "\
Someone else controls a customer's account: new device, changed e-mail or address, orders the customer denies.

## Checklist
- [ ] Verify the account holder through a channel we already know (mandatory)
- [ ] End every session and force a password reset (mandatory)
- [ ] Review orders, address and payment changes since the first suspicious login (mandatory)
- [ ] Hold or cancel open orders placed by the attacker
- [ ] Tell the customer what happened and what we did

## Never
* Never confirm personal data to the caller before the identity check.
* Never change the e-mail address on the caller's word alone.
",
    ),
    (
        "fraud-investigation-playbook",
        "playbook",
        Some("fraud_investigation"),
        "Fraud investigation",
        "\
## Checklist
- [ ] Review the linked orders and their screening reasons (mandatory)
- [ ] Check accounts sharing devices, cards or addresses (mandatory)
- [ ] Hand held parcels to the warehouse where they must not leave
- [ ] Record the outcome as a label: confirmed fraud or legitimate (mandatory)

Blocking an account needs a second person: propose it from the case.
",
    ),
    (
        "tier2-escalation-playbook",
        "playbook",
        Some("tier2_escalation"),
        "Tier-2 escalation",
        "\
## Checklist
- [ ] Read the Tier-2 handling and the customer's request (mandatory)
- [ ] Decide and document the answer in the case (mandatory)
- [ ] Give the Tier-2 agent feedback on the handling
",
    ),
    (
        "refund-claim-playbook",
        "playbook",
        Some("refund_claim"),
        "Refund claims: not received, empty box",
        "\
## Checklist
- [ ] Check carrier tracking and proof of delivery (mandatory)
- [ ] Ask the warehouse for the parcel's dispatch weight (mandatory)
- [ ] Check the customer's refund and dispute history (mandatory)
- [ ] Decide: refund, partial refund or decline; goodwill above 100 EUR needs a second person
",
    ),
    (
        "chargeback-evidence-sop",
        "sop",
        None,
        "Chargeback evidence",
        "\
1. Collect the order, the screening answer and every event of the order.
2. Add proof of delivery with signature or photo where the carrier has it.
3. Submit before the provider's deadline; the dispute's due date is in the case.
",
    ),
    (
        "unmasking-sop",
        "sop",
        None,
        "Seeing personal data in clear",
        "\
Personal data is masked on every page. Unmask only for the case in front of you, and state the purpose:
it is logged with your name and shown in the audit log.
",
    ),
    (
        "refund-faq",
        "faq",
        None,
        "How long does a refund take?",
        "\
Refunds reach the customer's card within **5 to 10 working days** of the return arriving at the warehouse.
",
    ),
];

pub(super) async fn seed(svc: &Service) -> anyhow::Result<usize> {
    let lea = Actor::user("lea", Role::TeamLead);
    let editor = KnowledgeEditor::local(lea.clone());
    let reader = Someone::local(lea);
    if !svc.pages(&reader, None, None).await?.is_empty() {
        return Ok(0);
    }
    for (slug, kind, case_kind, title, body) in PAGES {
        let input = PageInput {
            kind: (*kind).into(),
            title: (*title).into(),
            body: (*body).into(),
            case_kind: case_kind.map(str::to_owned),
            note: "first version".into(),
            base_version: 0,
        };
        svc.save_page(&editor, slug, input).await?;
    }
    // A second version of the unmasking SOP: only some have read it.
    let v2 = PageInput {
        kind: "sop".into(),
        title: "Seeing personal data in clear".into(),
        body: format!("{}\nNever unmask to answer a caller: verify them first.\n", PAGES[5].4),
        note: "callers".into(),
        base_version: 1,
        ..Default::default()
    };
    let page = svc.save_page(&editor, "unmasking-sop", v2).await?;
    for (name, role) in [("ana", Role::FraudAnalyst), ("ben", Role::RiskExpert)] {
        svc.acknowledge_page(&Someone::local(Actor::user(name, role)), "unmasking-sop", page.version).await?;
    }
    Ok(PAGES.len())
}
