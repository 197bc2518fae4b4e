//! The QA journey in the browser (same server and demo data): a QA reviewer scores a sampled
//! handling of an outsourced provider with a knock-out; the provider's team lead disputes the
//! feedback; a second reviewer (a team lead) upholds it.

use crate::browser::{Step, click, err, screenshot, sign_in, text_until};
use fantoccini::{Client, Locator};
use std::path::Path;

pub(crate) async fn fresh(c: &Client, base: &str, user: &str, pw: &dyn Fn(&str) -> String) -> Step {
    c.goto(&format!("{base}/login")).await.map_err(err)?;
    c.delete_all_cookies().await.map_err(err)?;
    sign_in(c, base, user, &pw(user)).await
}

pub(crate) async fn qa_journey(
    c: &Client,
    base: &str,
    pw: &dyn Fn(&str) -> String,
    shots: Option<&Path>,
) -> Result<(), (String, String)> {
    let step = |name: &str, r: Step| r.map_err(|e| (name.to_owned(), e));
    let mut handling_url = String::new();
    step(
        "qia scores a handling with a knock-out",
        async {
            fresh(c, base, "qia", pw).await?;
            c.goto(&format!("{base}/qa?provider=ServiceCo%20Lisbon")).await.map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "qa-inbox").await;
            }
            click(c, "#qa-inbox tbody tr td a").await?;
            text_until(c, "#handling-id", |t| !t.is_empty()).await?;
            handling_url = c.current_url().await.map_err(err)?.to_string();
            c.find(Locator::Css("#r_identity_before_disclosure"))
                .await
                .map_err(err)?
                .select_by_value("0")
                .await
                .map_err(err)?;
            c.find(Locator::Css("#score-form textarea[name=comment]"))
                .await
                .map_err(err)?
                .send_keys("The stored address was read out before the security questions.")
                .await
                .map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "qa-handling").await;
            }
            click(c, "#score-submit").await?;
            let done = text_until(c, "#qa-done", |t| t.contains("Review saved")).await?;
            let score = text_until(c, "#reviews .score", |t| t == "0.0").await?;
            if done.contains("Review saved") && score == "0.0" {
                Ok(())
            } else {
                Err(format!("not scored 0: {done} / {score}"))
            }
        }
        .await,
    )?;
    step(
        "pro disputes the feedback",
        async {
            fresh(c, base, "pro", pw).await?;
            c.goto(&format!("{base}/qa/feedback")).await.map_err(err)?;
            click(c, "#feedback tbody tr td a").await?;
            c.find(Locator::Css("#dispute-form textarea[name=reason]"))
                .await
                .map_err(err)?
                .send_keys("The caller passed the security questions at the start of the call.")
                .await
                .map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "qa-feedback").await;
            }
            click(c, "#dispute").await?;
            let t = text_until(c, "#feedback tbody", |t| t.contains("disputed")).await?;
            if t.contains("disputed") { Ok(()) } else { Err(format!("not disputed: {t}")) }
        }
        .await,
    )?;
    step(
        "lea upholds it as the second reviewer",
        async {
            fresh(c, base, "lea", pw).await?;
            c.goto(&handling_url).await.map_err(err)?;
            click(c, "#uphold").await?;
            let t = text_until(c, "#reviews", |t| t.contains("upheld")).await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "qa-decided").await;
            }
            c.goto(&format!("{base}/qa/dashboard")).await.map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "qa-dashboard").await;
            }
            if t.contains("upheld") { Ok(()) } else { Err(format!("not upheld: {t}")) }
        }
        .await,
    )
}
