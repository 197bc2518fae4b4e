//! The cases journey in the browser, after the day's first part (same server and demo data): a
//! Tier-2 agent escalates a caller who failed the security questions; an analyst finds it in
//! the team queue, takes it, works its checklist, adds a note and proposes blocking the
//! account; a team lead approves it; the analyst resolves and closes the case; the Tier-2
//! agent sees the outcome.

use crate::browser::{Step, click, err, fill, screenshot, select, sign_in, text, text_until};
use fantoccini::{Client, Locator};
use std::path::Path;

async fn fresh(c: &Client, base: &str) -> Step {
    c.goto(&format!("{base}/login")).await.map_err(err)?;
    c.delete_all_cookies().await.map_err(err)
}

pub(crate) async fn case_journey(
    c: &Client,
    base: &str,
    pw: &dyn Fn(&str) -> String,
    shots: Option<&Path>,
) -> Result<(), (String, String)> {
    let step = |name: &str, r: Step| r.map_err(|e| (name.to_owned(), e));
    let title = "Caller failed the security questions for C-00042";

    step(
        "tia escalates",
        async {
            fresh(c, base).await?;
            sign_in(c, base, "tia", &pw("tia")).await?;
            c.goto(&format!("{base}/cases/new")).await.map_err(err)?;
            select(c, "#open-case select[name=kind]", "tier2_escalation").await?;
            fill(c, "#open-case input[name=title]", title).await?;
            fill(c, "#open-case textarea[name=description]", "Asked to change the delivery address of a paid order.")
                .await?;
            fill(c, "#open-case input[name=customer_id]", "C-00042").await?;
            click(c, "#open-case button[type=submit]").await?;
            let t = text_until(c, "#reports", |t| t.contains(title)).await?;
            if t.contains(title) { Ok(()) } else { Err(format!("not among tia's reports: {t}")) }
        }
        .await,
    )?;

    let case_url = step_value("ana finds and takes it", async {
        fresh(c, base).await?;
        sign_in(c, base, "ana", &pw("ana")).await?;
        c.goto(&format!("{base}/cases?view=team&team=risk")).await.map_err(err)?;
        if let Some(dir) = shots {
            screenshot(c, dir, "cases").await;
        }
        c.find(Locator::LinkText(title)).await.map_err(err)?.click().await.map_err(err)?;
        text_until(c, "#case-title", |t| t == title).await?;
        let url = c.current_url().await.map_err(err)?.to_string();
        click(c, "#take").await?;
        let owner = text_until(c, "#case-owner", |t| t == "ana").await?;
        if owner != "ana" {
            return Err(format!("owner is {owner}"));
        }
        Ok(url)
    })
    .await?;

    step(
        "ana works the checklist and proposes a block",
        async {
            // Tick every task of the playbook, one page load at a time.
        let open = |c: &Client| {
            let c = c.clone();
            async move { c.find_all(Locator::Css("#case-tasks li form button")).await.map(|v| v.len()).unwrap_or(0) }
        };
        for _ in 0..10 {
            let n = open(c).await;
            if n == 0 {
                break;
            }
            if let Ok(b) = c.find(Locator::Css("#case-tasks li form button")).await {
                let _ = b.click().await;
            }
            let start = std::time::Instant::now();
            while open(c).await >= n && start.elapsed() < std::time::Duration::from_secs(10) {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        // Attach the call notes as a file (the multipart upload of the page).
        let notes = std::env::temp_dir().join(format!("call-notes-{}.txt", std::process::id()));
        std::fs::write(&notes, "10:02 called the number on file; customer confirms she did not call").map_err(err)?;
        c.find(Locator::Css("#attach input[type=file]")).await.map_err(err)?.send_keys(&notes.to_string_lossy()).await.map_err(err)?;
        click(c, "#attach button[type=submit]").await?;
        let files = text_until(c, "#case-files", |t| t.contains("call-notes")).await?;
        if !files.contains("call-notes") {
            return Err(format!("the attachment is not listed: {files}"));
        }
        fill(c, "#add-note textarea", "Called the customer on the number on file: she did not call us.").await?;
            click(c, "#add-note button").await?;
            text_until(c, "#timeline", |t| t.contains("number on file")).await?;
            select(c, "#decision", "block_account").await?;
            fill(
                c,
                "#propose-decision textarea[name=reason]",
                "Account taken over; block until the customer is verified.",
            )
            .await?;
            click(c, "#propose-decision button[type=submit]").await?;
            let s = text_until(c, "#case-status", |t| t == "Pending approval").await?;
            if s == "Pending approval" { Ok(()) } else { Err(format!("status {s}")) }
        }
        .await,
    )?;

    step(
        "lea approves the block",
        async {
            fresh(c, base).await?;
            sign_in(c, base, "lea", &pw("lea")).await?;
            c.goto(&format!("{base}/proposals")).await.map_err(err)?;
            let case_id = case_url.rsplit('/').next().unwrap_or_default();
            click(c, &format!("tr[data-kind=case_decision][data-target='{case_id}'] button.approve")).await?;
            text(c, "#proposals").await?;
            c.goto(&case_url).await.map_err(err)?;
            let s = text_until(c, "#case-status", |t| t == "Investigating").await?;
            let tl = text(c, "#timeline").await?;
            if s == "Investigating" && tl.contains("C-00042 blocked") {
                Ok(())
            } else {
                Err(format!("status {s}; timeline {tl}"))
            }
        }
        .await,
    )?;

    step(
        "ana resolves and closes",
        async {
            fresh(c, base).await?;
            sign_in(c, base, "ana", &pw("ana")).await?;
            c.goto(&case_url).await.map_err(err)?;
            select(c, "#move-to", "resolved").await?;
            select(c, "#transition select[name=resolution]", "account_secured").await?;
            fill(c, "#transition textarea[name=summary]", "Takeover confirmed; account blocked until verified.")
                .await?;
            click(c, "#transition button[type=submit]").await?;
            text_until(c, "#case-status", |t| t == "Resolved").await?;
            select(c, "#move-to", "closed").await?;
            click(c, "#transition button[type=submit]").await?;
            let s = text_until(c, "#case-status", |t| t == "Closed").await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "case").await;
            }
            if s == "Closed" { Ok(()) } else { Err(format!("status {s}")) }
        }
        .await,
    )?;

    step(
        "tia sees the outcome",
        async {
            fresh(c, base).await?;
            sign_in(c, base, "tia", &pw("tia")).await?;
            c.goto(&format!("{base}/reports")).await.map_err(err)?;
            let t = text(c, "#reports").await?;
            if t.contains("Account secured") { Ok(()) } else { Err(format!("outcome not shown: {t}")) }
        }
        .await,
    )?;
    Ok(())
}

async fn step_value<T>(
    name: &str,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, (String, String)> {
    f.await.map_err(|e| (name.to_owned(), e))
}
