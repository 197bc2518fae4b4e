//! The disputes journey in the browser, after the cases (same server and demo data): a payments
//! specialist opens the dispute queue, takes the first dispute that needs a response, satisfies
//! a missing checklist item by hand, submits the defence (or, above the four-eye amount,
//! proposes it), downloads nothing but sees the pack link, and reads the scheme ratios, the
//! refund claims and the return-abuse list.

use crate::browser::{Step, click, err, screenshot, sign_in, text_until};
use fantoccini::{Client, Locator};
use std::path::Path;

/// The review queue at 800 px: no horizontal scrolling.
pub(crate) async fn narrow_queue(
    c: &Client,
    base: &str,
    pw: &dyn Fn(&str) -> String,
    shots: Option<&Path>,
) -> Result<(), (String, String)> {
    let r: Step = async {
        c.goto(&format!("{base}/login")).await.map_err(err)?;
        c.delete_all_cookies().await.map_err(err)?;
        sign_in(c, base, "ana", &pw("ana")).await?;
        c.set_window_size(800, 1000).await.map_err(err)?;
        c.goto(&format!("{base}/queue")).await.map_err(err)?;
        let (page, view) = (
            c.execute("return document.documentElement.scrollWidth", vec![]).await.map_err(err)?,
            c.execute("return document.documentElement.clientWidth", vec![]).await.map_err(err)?,
        );
        if let Some(dir) = shots {
            screenshot(c, dir, "queue-800").await;
        }
        c.set_window_size(1440, 1700).await.map_err(err)?;
        if page.as_i64() > view.as_i64() {
            Err(format!("the queue scrolls sideways at 800 px: {page} > {view}"))
        } else {
            Ok(())
        }
    }
    .await;
    r.map_err(|e| ("the queue at 800 px".to_owned(), e))
}

pub(crate) async fn dispute_journey(
    c: &Client,
    base: &str,
    pw: &dyn Fn(&str) -> String,
    shots: Option<&Path>,
) -> Result<(), (String, String)> {
    let step = |name: &str, r: Step| r.map_err(|e| (name.to_owned(), e));
    step(
        "pat works a dispute",
        async {
            c.goto(&format!("{base}/login")).await.map_err(err)?;
            c.delete_all_cookies().await.map_err(err)?;
            sign_in(c, base, "pat", &pw("pat")).await?;
            c.goto(&format!("{base}/disputes?view=respond")).await.map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "disputes").await;
            }
            click(c, "#disputes tbody tr td a").await?;
            text_until(c, "#dispute-ref", |t| !t.is_empty()).await?;
            if let Ok(note) = c.find(Locator::Css("#dispute-checklist tr.ev-missing input[name=note]")).await {
                note.send_keys("Phone call with the cardholder on record").await.map_err(err)?;
                click(c, "#dispute-checklist tr.ev-missing button").await?;
                let done = text_until(c, "#dispute-done", |t| t.contains("Checklist")).await?;
                if !done.contains("Checklist") {
                    return Err(format!("the checklist was not updated: {done}"));
                }
            }
            if let Some(dir) = shots {
                screenshot(c, dir, "dispute").await;
            }
            c.find(Locator::Css("#submit-form textarea[name=note]"))
                .await
                .map_err(err)?
                .send_keys("Delivered to the billing address; carrier scan attached")
                .await
                .map_err(err)?;
            click(c, "#submit-defence").await?;
            let done =
                text_until(c, "#dispute-done", |t| t.contains("submitted") || t.contains("second person")).await?;
            if done.contains("submitted") || done.contains("second person") {
                Ok(())
            } else {
                Err(format!("not submitted: {done}"))
            }
        }
        .await,
    )?;
    step(
        "pat reads the ratios, claims and returns",
        async {
            c.goto(&format!("{base}/disputes/schemes")).await.map_err(err)?;
            c.find(Locator::Css("#vamp svg.chart")).await.map_err(|e| format!("no VAMP chart: {e}"))?;
            if let Some(dir) = shots {
                screenshot(c, dir, "schemes").await;
            }
            c.goto(&format!("{base}/refund-claims")).await.map_err(err)?;
            c.find(Locator::Css("#claims")).await.map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "refund-claims").await;
            }
            c.goto(&format!("{base}/return-abuse")).await.map_err(err)?;
            let rows = c.find_all(Locator::Css("#returns tbody tr")).await.map_err(err)?.len();
            if let Some(dir) = shots {
                screenshot(c, dir, "return-abuse").await;
            }
            if rows == 0 { Err("no customer with return-abuse signals in the demo".into()) } else { Ok(()) }
        }
        .await,
    )
}
