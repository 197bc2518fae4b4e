//! The demo's people: one user per daily role, each with a password shown once.

/// On a database without users: an administrator and one user per daily role, each with a
/// random password printed once.
pub(super) async fn demo_users(
    service: &riskdesk_service::Service,
) -> anyhow::Result<Vec<(String, &'static str, String)>> {
    use riskdesk_domain::Role;
    let Some((admin, password)) = service.ensure_first_admin().await? else { return Ok(Vec::new()) };
    let mut out = vec![(admin, "admin", password)];
    let cap = riskdesk_service::access::local::user_admin();
    for (name, display, role) in [
        ("ana", "Ana Analyst", Role::FraudAnalyst),
        ("ben", "Ben Expert", Role::RiskExpert),
        ("lea", "Lea Lead", Role::TeamLead),
        ("tia", "Tia Tier-2", Role::Tier2Agent),
        ("pia", "Pia Privacy", Role::PrivacyOfficer),
        ("aud", "Aud Auditor", Role::Auditor),
        ("pat", "Pat Payments", Role::PaymentsSpecialist),
        ("qia", "Qia Quality", Role::QaReviewer),
        ("pro", "Pro Provider Lead", Role::ProviderLead),
    ] {
        let mut raw = [0u8; 12];
        getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let password = hex::encode(raw);
        service.add_user(&cap, name, display, role, &password).await?;
        out.push((name.to_owned(), role.as_str(), password));
    }
    Ok(out)
}
