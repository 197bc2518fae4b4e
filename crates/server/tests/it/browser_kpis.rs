//! The KPI journey in the browser (same server and demo data): the governance manager reads the
//! dashboard by country, follows the Netherlands' fraud rate to its orders, opens an
//! investigation from last week's trend alert on Moncler paid by card in the Netherlands, and
//! reads rule effectiveness and the reports page.

use crate::browser::{Step, err, screenshot, text_until};
use crate::browser_qa::fresh;
use fantoccini::{Client, Locator};
use std::path::Path;

pub(crate) async fn kpi_journey(
    c: &Client,
    base: &str,
    pw: &dyn Fn(&str) -> String,
    shots: Option<&Path>,
) -> Result<(), (String, String)> {
    let step = |name: &str, r: Step| r.map_err(|e| (name.to_owned(), e));
    step(
        "lea reads the dashboard and follows a number to its orders",
        async {
            fresh(c, base, "lea", pw).await?;
            c.goto(&format!("{base}/kpis?by=country")).await.map_err(err)?;
            let tiles = text_until(c, "#kpi-tiles", |t| t.contains("Fraud rate (orders)")).await?;
            c.find(Locator::Css("#kpi-chart svg.chart")).await.map_err(|e| format!("no chart: {e}"))?;
            if let Some(dir) = shots {
                screenshot(c, dir, "kpi-dashboard").await;
            }
            if !tiles.contains("previous period") {
                return Err(format!("tiles without the previous period: {tiles}"));
            }
            // The Netherlands' fraud rate, one click to its orders.
            let rows = c.find_all(Locator::Css("#kpi-table tbody tr")).await.map_err(err)?;
            let mut link = None;
            for r in rows {
                if r.text().await.map_err(err)?.starts_with("NL") {
                    link = Some(r.find(Locator::Css("td:nth-child(3) a")).await.map_err(err)?);
                }
            }
            link.ok_or("no NL row")?.click().await.map_err(err)?;
            let t = text_until(c, "#kpi-orders", |t| t.contains("D-NL-")).await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "kpi-orders").await;
            }
            if t.contains("fraud") { Ok(()) } else { Err(format!("orders without their fraud tag: {t}")) }
        }
        .await,
    )?;
    step(
        "lea opens an investigation from the trend alert",
        async {
            c.goto(&format!("{base}/kpis/alerts?status=open")).await.map_err(err)?;
            text_until(c, "main", |t| t.contains("Moncler / card / NL")).await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "kpi-alerts").await;
            }
            let cards = c.find_all(Locator::Css("section.alert-item")).await.map_err(err)?;
            let mut button = None;
            for card in cards {
                if card.text().await.map_err(err)?.contains("Moncler / card / NL") {
                    button = Some(card.find(Locator::Css("button.investigate")).await.map_err(err)?);
                    break;
                }
            }
            button.ok_or("no alert for Moncler / card / NL")?.click().await.map_err(err)?;
            let h = text_until(c, "h1", |t| t.contains("Moncler / card / NL")).await?;
            let page = c.find(Locator::Css("main")).await.map_err(err)?.text().await.map_err(err)?;
            if let Some(dir) = shots {
                screenshot(c, dir, "kpi-investigation").await;
            }
            if page.contains("D-NL-") { Ok(()) } else { Err(format!("the case {h} links no order of the burst")) }
        }
        .await,
    )?;
    step(
        "lea reads rule effectiveness and the reports",
        async {
            c.goto(&format!("{base}/kpis/rules")).await.map_err(err)?;
            text_until(c, "#kpi-rules tbody", |t| !t.is_empty()).await?;
            if let Some(dir) = shots {
                screenshot(c, dir, "kpi-rules").await;
            }
            c.goto(&format!("{base}/kpis/reports")).await.map_err(err)?;
            let t = text_until(c, "#report-weekly", |t| t.contains("PDF")).await?;
            if t.contains("CSV") { Ok(()) } else { Err(t) }
        }
        .await,
    )?;
    Ok(())
}
