//! The privacy journey in the browser (same server and demo data): a person asks on the public
//! page; the privacy officer enters a phone request for access, verifies the identity, builds
//! the package, reads its report and proposes its release; the demo's erasure request due in a
//! few days is proposed from its plan; a second person (the administrator) approves both; the
//! erasure runs and lists each record's outcome.

use crate::browser::{Step, click, err, fill, screenshot, text_until};
use crate::browser_qa::fresh;
use fantoccini::{Client, Locator};
use std::path::Path;

/// Reloads `url` until `css` is on the page (background jobs finish within seconds).
async fn reload_until(c: &Client, url: &str, css: &str) -> Step {
    for _ in 0..40 {
        c.goto(url).await.map_err(err)?;
        if c.find(Locator::Css(css)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(format!("{css} never appeared on {url}"))
}

/// Reloads `url` until the text of `css` satisfies `ok` (a background job finishing): the page
/// does not refresh itself. Answers the last text seen.
async fn reload_until_text(c: &Client, url: &str, css: &str, ok: impl Fn(&str) -> bool) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..60 {
        c.goto(url).await.map_err(err)?;
        if let Ok(e) = c.find(Locator::Css(css)).await {
            last = e.text().await.unwrap_or_default();
            if ok(&last) {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Ok(last)
}

async fn approve(c: &Client, base: &str, kind: &str) -> Step {
    c.goto(&format!("{base}/proposals")).await.map_err(err)?;
    let row =
        c.find(Locator::Css(&format!("tr[data-kind={kind}]"))).await.map_err(|e| format!("{kind} proposal: {e}"))?;
    let id = row.attr("id").await.map_err(err)?.unwrap_or_default();
    row.find(Locator::Css("button.approve")).await.map_err(err)?.click().await.map_err(err)?;
    let status = text_until(c, &format!("#{id} .tag"), |t| t == "executed").await?;
    if status == "executed" { Ok(()) } else { Err(format!("{kind}: {status}")) }
}

pub(crate) async fn privacy_journey(
    c: &Client,
    base: &str,
    pw: &dyn Fn(&str) -> String,
    shots: Option<&Path>,
) -> Result<(), (String, String)> {
    let step = |name: &str, r: Step| r.map_err(|e| (name.to_owned(), e));
    let mut access_url = String::new();
    let mut erasure_url = String::new();
    step(
        "a person asks on the public page",
        async {
            c.goto(&format!("{base}/public/privacy")).await.map_err(err)?;
            c.find(Locator::Css("#right")).await.map_err(err)?.select_by_value("erasure").await.map_err(err)?;
            fill(c, "#email", "someone@example.org").await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "privacy-public").await;
            }
            click(c, "#ask").await?;
            text_until(c, "#public-received", |t| t.contains("verification code")).await.map(|_| ())
        }
        .await,
    )?;
    step(
        "pia enters a phone request for access and builds the package",
        async {
            fresh(c, base, "pia", pw).await?;
            c.goto(&format!("{base}/privacy")).await.map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "privacy-dashboard").await;
            }
            let overdue = c.find(Locator::Css("#tile-overdue .num")).await.map_err(err)?.text().await.map_err(err)?;
            if overdue == "0" {
                return Err("the demo's overdue request is not counted".into());
            }
            fill(c, "#customer_id", "C-00005").await?;
            c.find(Locator::Css("#channel")).await.map_err(err)?.select_by_value("phone").await.map_err(err)?;
            click(c, "#request-submit").await?;
            text_until(c, "#request-id", |t| t.starts_with("dsr_")).await?;
            access_url = c.current_url().await.map_err(err)?.to_string();
            fill(c, "#evidence", "Call-back to the phone number on file").await?;
            click(c, "#verify").await?;
            text_until(c, "#identity", |t| t == "verified").await?;
            click(c, "#build-export").await?;
            reload_until(c, &access_url, "#download-export").await?;
            click(c, "#read-report").await?;
            text_until(c, "#privacy-report", |t| t.contains("Your orders")).await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "privacy-report").await;
            }
            c.goto(&access_url).await.map_err(err)?;
            click(c, "#propose-release").await?;
            let done = text_until(c, "#privacy-done", |t| t.contains("Release proposed")).await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "privacy-access-request").await;
            }
            if done.contains("Release proposed") { Ok(()) } else { Err(done) }
        }
        .await,
    )?;
    step(
        "pia proposes the erasure due in a few days from its plan",
        async {
            c.goto(&format!("{base}/privacy")).await.map_err(err)?;
            let mut link = None;
            for row in c.find_all(Locator::Css("#privacy-requests tbody tr")).await.map_err(err)? {
                let t = row.text().await.map_err(err)?;
                if t.contains("Erasure") && t.contains("C-00042") {
                    link = Some(row.find(Locator::Css("a")).await.map_err(err)?);
                }
            }
            link.ok_or("the demo's erasure request is not listed")?.click().await.map_err(err)?;
            text_until(c, "#request-id", |t| t.starts_with("dsr_")).await?;
            erasure_url = c.current_url().await.map_err(err)?.to_string();
            let plan = c.find(Locator::Css("#plan")).await.map_err(err)?.text().await.map_err(err)?;
            if !plan.contains("restricted") {
                return Err(format!("plan without restricted records: {plan}"));
            }
            if let Some(dir) = shots {
                screenshot(c, dir, "privacy-erasure-plan").await;
            }
            click(c, "#propose-erasure").await?;
            let done = text_until(c, "#privacy-done", |t| t.contains("Erasure proposed")).await?;
            if done.contains("Erasure proposed") { Ok(()) } else { Err(done) }
        }
        .await,
    )?;
    step(
        "a second person approves the release and the erasure",
        async {
            fresh(c, base, "admin", pw).await?;
            approve(c, base, "privacy_release").await?;
            approve(c, base, "privacy_erasure").await
        }
        .await,
    )?;
    step(
        "the erasure ran and lists each record's outcome",
        async {
            fresh(c, base, "pia", pw).await?;
            // The erasure job runs in the background; the page shows it when reloaded.
            let status =
                reload_until_text(c, &erasure_url, "#request-status", |t| t == "Partly withheld" || t == "Completed")
                    .await?;
            let outcomes = c.find(Locator::Css("#outcomes")).await.map_err(err)?.text().await.map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "privacy-erasure-done").await;
            }
            if !(outcomes.contains("restricted") && outcomes.contains("erased")) {
                return Err(format!("{status}: {outcomes}"));
            }
            let s = reload_until_text(c, &access_url, "#request-status", |t| t == "Completed").await?;
            if s == "Completed" { Ok(()) } else { Err(format!("access request {s}")) }
        }
        .await,
    )?;
    Ok(())
}
