//! `riskdesk import orders|events FILE`: streams JSONL (intake-v1, one object per line) or CSV
//! (column mapping in docs/import.md) in batched transactions.
//!
//! A reader thread cuts the file into batches; each batch is parsed and hashed in parallel
//! (rayon) on a task that runs up to two batches ahead of the writer, so parsing and SQLite's
//! single writer overlap.
//! A bad line never aborts the file: it is counted and reported with its line number.

use anyhow::Context;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::iter::Either;
use rayon::prelude::*;
use riskdesk_domain::intake::{EventIn, OrderIn, decode, parse_event, parse_event_json, parse_order, parse_order_json};
use riskdesk_domain::{Event, FieldError};
use riskdesk_service::Service;
use riskdesk_service::access::local;
use riskdesk_store::{BulkTarget, InsertOutcome, NewOrder};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Orders,
    Events,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// By extension: .csv is CSV, anything else JSONL.
    Auto,
    Jsonl,
    Csv,
}

/// Whether to drop secondary indexes during the load and rebuild them at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bulk {
    /// When the file is large (≥ 100,000 lines estimated) and larger than what is stored.
    Auto,
    On,
    Off,
}

pub struct Options {
    pub kind: Kind,
    pub bulk: Bulk,
    pub format: Format,
    pub batch_size: usize,
    pub progress: bool,
    pub report: PathBuf,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub elapsed: Duration,
    pub report: Option<PathBuf>,
    /// Indexes were dropped during the load and rebuilt after it (included in `elapsed`).
    pub bulk: bool,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        write!(
            f,
            "imported {}, duplicates skipped {}, rejected {} of {} lines in {:.1}s ({:.0} lines/s)",
            self.imported,
            self.duplicates,
            self.rejected,
            self.lines,
            secs,
            self.lines as f64 / secs
        )?;
        if self.bulk {
            write!(f, " (bulk load: indexes rebuilt at the end)")?;
        }
        if let Some(r) = &self.report {
            write!(f, "; rejected lines: {}", r.display())?;
        }
        Ok(())
    }
}

pub fn default_report_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".rejected.csv");
    file.with_file_name(name)
}

/// One input record with its line number.
enum Raw {
    /// A JSON line: where it lies in its chunk's [`Chunk::text`].
    Json(u64, std::ops::Range<usize>),
    Csv(u64, Result<Value, FieldError>),
    Unreadable(u64, String),
}

impl Raw {
    fn line(&self) -> u64 {
        match self {
            Raw::Json(n, _) | Raw::Csv(n, _) | Raw::Unreadable(n, _) => *n,
        }
    }
}

struct Chunk {
    /// The chunk's JSON lines side by side: one buffer a chunk, not an allocation a line.
    text: Vec<u8>,
    records: Vec<Raw>,
    bytes_read: u64,
}

/// A parsed chunk on its way to the writer.
struct ParsedChunk {
    batch: Batch,
    lines: u64,
    bytes_read: u64,
}

/// Parsed chunks that may wait for the writer.
const PARSED_AHEAD: usize = 2;

/// Lines a file of `size` bytes holds, about: orders run near 1 KiB a line, events near 150
/// bytes.
fn estimated_lines(size: u64, kind: Kind) -> u64 {
    size / if kind == Kind::Orders { 1024 } else { 150 }
}

pub async fn run(service: &Service, file: &Path, opts: &Options) -> anyhow::Result<Summary> {
    let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    let lines = estimated_lines(size, opts.kind);
    let bulk = match opts.bulk {
        Bulk::On => true,
        Bulk::Off => false,
        Bulk::Auto => {
            let counts = service.store().counts().await?;
            let stored = if opts.kind == Kind::Orders { counts.orders } else { counts.events };
            let lines = i64::try_from(lines).unwrap_or(i64::MAX);
            lines >= 100_000 && lines >= stored
        }
    };
    let total = Instant::now();
    if bulk {
        let target = if opts.kind == Kind::Orders { BulkTarget::Orders } else { BulkTarget::Events };
        // Twice the estimate: what a store sizes from it but does not fill costs address space
        // only, while too little is grown by copying.
        service.store().begin_bulk_load(target, lines.saturating_mul(2)).await?;
    }
    let result = load(service, file, size, opts).await;
    // Imported history skips per-order linking; one pass links it all. After a bulk load it runs
    // even when everything was a duplicate: the same file again is how a load killed before
    // this pass gets its accounts linked. It reads only the orders' own entity keys, not the
    // indexes, so it runs while they are rebuilt: reading and linking a million orders then
    // overlaps the index builds instead of following them.
    let link = result.as_ref().is_ok_and(|s| s.imported > 0 || bulk);
    let rebuild = async {
        if !bulk {
            return Ok(());
        }
        // Rebuild even when the load failed: the indexes must come back either way.
        let start = Instant::now();
        let spinner = if opts.progress { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
        spinner.set_message("rebuilding indexes…");
        spinner.enable_steady_tick(Duration::from_millis(120));
        let ended = service.store().end_bulk_load().await;
        spinner.finish_and_clear();
        tracing::info!(seconds = start.elapsed().as_secs_f64(), "indexes rebuilt");
        ended
    };
    let relink = async {
        if !link {
            return Ok(None);
        }
        let start = Instant::now();
        let accounts = service.rebuild_clusters(&riskdesk_service::access::local::intake()).await?;
        tracing::info!(accounts, seconds = start.elapsed().as_secs_f64(), "linked-account clusters rebuilt");
        Ok::<_, riskdesk_service::ServiceError>(Some(accounts))
    };
    let (rebuilt, relinked) = tokio::join!(rebuild, relink);
    rebuilt?;
    let mut summary = result?;
    relinked?;
    // The import is done when the database file alone holds it (part of the time reported).
    let start = Instant::now();
    service.store().checkpoint().await?;
    tracing::info!(seconds = start.elapsed().as_secs_f64(), "checkpointed");
    summary.bulk = bulk;
    summary.elapsed = total.elapsed();
    Ok(summary)
}

async fn load(service: &Service, file: &Path, size: u64, opts: &Options) -> anyhow::Result<Summary> {
    let csv = match opts.format {
        Format::Csv => true,
        Format::Jsonl => false,
        Format::Auto => file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")),
    };
    let bar = if opts.progress { ProgressBar::new(size) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<Chunk>>(2);
    let path = file.to_owned();
    let (kind, batch) = (opts.kind, opts.batch_size);
    let reader = std::thread::spawn(move || {
        let result = if csv { read_csv(&path, kind, batch, &tx) } else { read_jsonl(&path, batch, &tx) };
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });

    // Parsing runs ahead of writing by up to `PARSED_AHEAD` chunks, on its own task: each stage
    // waits for the other only when it is that far ahead. In lock-step (parse one chunk while
    // the one before is written, then wait for both) whichever finished first idled at every
    // chunk, and a million-order load kept its two cores only 1.7 busy.
    let (parsed_tx, mut parsed_rx) = tokio::sync::mpsc::channel::<anyhow::Result<ParsedChunk>>(PARSED_AHEAD);
    let parser = {
        let svc = service.clone();
        tokio::spawn(async move {
            while let Some(chunk) = rx.recv().await {
                let parsed = match chunk {
                    Ok(Chunk { text, records, bytes_read }) => {
                        let (svc, lines) = (svc.clone(), records.len() as u64);
                        tokio::task::spawn_blocking(move || parse_chunk(&svc, kind, &text, records))
                            .await
                            .map(|batch| ParsedChunk { batch, lines, bytes_read })
                            .map_err(anyhow::Error::from)
                    }
                    Err(e) => Err(e),
                };
                let failed = parsed.is_err();
                // The writer stopped (it failed): nothing more to do.
                if parsed_tx.send(parsed).await.is_err() || failed {
                    break;
                }
            }
        })
    };

    let mut summary = Summary::default();
    let mut report: Option<csv::Writer<std::fs::File>> = None;
    // Which stage bounds the load: time the writer spent writing, and waiting for parsing.
    let (mut writing, mut waiting) = (Duration::ZERO, Duration::ZERO);
    loop {
        let start = Instant::now();
        let Some(parsed) = parsed_rx.recv().await else { break };
        waiting += start.elapsed();
        let ParsedChunk { batch, lines, bytes_read } = parsed?;
        summary.lines += lines;
        let svc = service.clone();
        let start = Instant::now();
        let written = tokio::task::spawn_blocking(move || write_chunk(&svc, batch)).await??;
        writing += start.elapsed();
        absorb(&mut summary, &mut report, &opts.report, written)?;
        bar.set_position(bytes_read);
        bar.set_message(format!(
            "{} imported, {} duplicates, {} rejected",
            summary.imported, summary.duplicates, summary.rejected
        ));
    }
    parser.await?;
    let _ = reader.join();
    tracing::debug!(writing = writing.as_secs_f64(), waiting_for_parsing = waiting.as_secs_f64(), "load written");
    if let Some(mut w) = report {
        w.flush()?;
        summary.report = Some(opts.report.clone());
    }
    bar.finish_and_clear();
    Ok(summary)
}

type Rejection = (u64, String, String, String);

/// Counts of one written chunk and its rejected lines.
type Written = (Summary, Vec<Rejection>);

fn absorb(
    summary: &mut Summary,
    report: &mut Option<csv::Writer<std::fs::File>>,
    path: &Path,
    (part, rejections): Written,
) -> anyhow::Result<()> {
    summary.imported += part.imported;
    summary.duplicates += part.duplicates;
    summary.rejected += rejections.len() as u64;
    if !rejections.is_empty() {
        if report.is_none() {
            let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
            w.write_record(["line", "code", "field", "detail"])?;
            *report = Some(w);
        }
        if let Some(w) = report.as_mut() {
            for (line, code, field, detail) in rejections {
                w.write_record([line.to_string(), code, field, detail])?;
            }
        }
    }
    Ok(())
}

/// A parsed chunk: what is to be stored, in file order, and the rejected lines.
enum Batch {
    Orders(Vec<NewOrder>, Vec<Rejection>),
    Events(Vec<Event>, Vec<Rejection>),
}

fn reject(line: u64, e: FieldError) -> Rejection {
    (line, e.code.to_owned(), e.field, e.detail)
}

fn parse_chunk(service: &Service, kind: Kind, text: &[u8], records: Vec<Raw>) -> Batch {
    fn one<T>(
        r: Raw,
        text: &[u8],
        json: impl Fn(&[u8]) -> Result<T, FieldError>,
        value: impl Fn(Value) -> Result<T, FieldError>,
    ) -> Either<T, Rejection> {
        let line = r.line();
        let result = match r {
            Raw::Json(_, range) => json(&text[range]),
            Raw::Csv(_, v) => v.and_then(value),
            Raw::Unreadable(_, why) => Err(FieldError::new("unreadable_line", "", why)),
        };
        match result {
            Ok(t) => Either::Left(t),
            Err(e) => Either::Right(reject(line, e)),
        }
    }
    match kind {
        Kind::Orders => {
            let (ok, rejected) = split(records.into_par_iter().map(|r| {
                one(r, text, parse_order_json, |v| {
                    OrderIn::deserialize(&v)
                        .map_err(|e| FieldError::new("invalid_type", "", e.to_string()))
                        .and_then(parse_order)
                })
                .map_left(|o| service.prepare(o, None))
            }));
            Batch::Orders(ok, rejected)
        }
        Kind::Events => {
            let (ok, rejected) = split(records.into_par_iter().map(|r| {
                one(r, text, parse_event_json, |v| {
                    let bytes = serde_json::to_vec(&v).unwrap_or_default();
                    decode::<EventIn>(&bytes).and_then(parse_event)
                })
            }));
            Batch::Events(ok, rejected)
        }
    }
}

/// Collects parsed records in file order and splits them: each prepared order lands in its
/// place as parsed and is moved once, into the writer's batch. (Splitting in parallel instead
/// grew and then joined a vector per task: two more copies of every order.)
fn split<T: Send>(parsed: impl IndexedParallelIterator<Item = Either<T, Rejection>>) -> (Vec<T>, Vec<Rejection>) {
    let parsed: Vec<_> = parsed.collect();
    let mut ok = Vec::with_capacity(parsed.len());
    let mut rejected = Vec::new();
    for p in parsed {
        match p {
            Either::Left(t) => ok.push(t),
            Either::Right(r) => rejected.push(r),
        }
    }
    (ok, rejected)
}

/// Writes one parsed chunk; runs on a blocking thread, where the store's writer takes the batch
/// as it lies (see `Service::import_prepared_blocking`).
fn write_chunk(service: &Service, batch: Batch) -> anyhow::Result<Written> {
    let mut part = Summary::default();
    let (outcomes, rejections) = match batch {
        Batch::Orders(ok, rejections) => {
            let outcomes = service.import_prepared_blocking(&local::intake(), &ok)?;
            // Thousands of orders' strings are freed on the parsing pool, off the path that
            // waits for this write before starting the next.
            rayon::spawn(move || drop(ok));
            (outcomes, rejections)
        }
        Batch::Events(ok, rejections) => {
            (tokio::runtime::Handle::current().block_on(service.import_events(&local::intake(), ok))?, rejections)
        }
    };
    for o in outcomes {
        match o {
            InsertOutcome::Inserted => part.imported += 1,
            InsertOutcome::Duplicate => part.duplicates += 1,
        }
    }
    Ok((part, rejections))
}

fn read_jsonl(path: &Path, batch: usize, tx: &tokio::sync::mpsc::Sender<anyhow::Result<Chunk>>) -> anyhow::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let (mut line_no, mut bytes_read) = (0u64, 0u64);
    // Sized as the chunk before (plus an eighth), so that it is seldom grown by copying.
    let mut room = batch.saturating_mul(1024).min(64 << 20);
    let mut text = Vec::with_capacity(room);
    let mut records = Vec::with_capacity(batch);
    loop {
        let start = text.len();
        let n = reader.read_until(b'\n', &mut text)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes_read += n as u64;
        while text.len() > start && text.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            text.pop();
        }
        if text[start..].iter().all(u8::is_ascii_whitespace) {
            text.truncate(start);
            continue;
        }
        if text.len() - start > 1024 * 1024 {
            text.truncate(start);
            records.push(Raw::Unreadable(line_no, "line longer than 1 MiB".into()));
        } else {
            records.push(Raw::Json(line_no, start..text.len()));
        }
        if records.len() >= batch {
            room = text.len() + text.len() / 8;
            let chunk = Chunk {
                text: std::mem::replace(&mut text, Vec::with_capacity(room)),
                records: std::mem::replace(&mut records, Vec::with_capacity(batch)),
                bytes_read,
            };
            if tx.blocking_send(Ok(chunk)).is_err() {
                return Ok(());
            }
        }
    }
    if !records.is_empty() {
        let _ = tx.blocking_send(Ok(Chunk { text, records, bytes_read }));
    }
    Ok(())
}

fn read_csv(
    path: &Path,
    kind: Kind,
    batch: usize,
    tx: &tokio::sync::mpsc::Sender<anyhow::Result<Chunk>>,
) -> anyhow::Result<()> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let headers: Vec<String> = rdr.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let mut records = Vec::with_capacity(batch);
    let mut record = csv::StringRecord::new();
    loop {
        let line_no = rdr.position().line();
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let v = match kind {
                    Kind::Orders => csv_order(&headers, &record),
                    Kind::Events => csv_event(&headers, &record),
                };
                records.push(Raw::Csv(line_no, v));
            }
            Err(e) => records.push(Raw::Unreadable(line_no, e.to_string())),
        }
        if records.len() >= batch {
            let chunk = Chunk {
                text: Vec::new(),
                records: std::mem::replace(&mut records, Vec::with_capacity(batch)),
                bytes_read: rdr.position().byte(),
            };
            if tx.blocking_send(Ok(chunk)).is_err() {
                return Ok(());
            }
        }
    }
    if !records.is_empty() {
        let _ = tx.blocking_send(Ok(Chunk { text: Vec::new(), records, bytes_read: rdr.position().byte() }));
    }
    Ok(())
}

fn cells<'a>(headers: &'a [String], record: &'a csv::StringRecord) -> impl Iterator<Item = (&'a str, &'a str)> {
    headers.iter().map(String::as_str).zip(record.iter()).filter(|(_, v)| !v.trim().is_empty())
}

fn set(obj: &mut Map<String, Value>, path: &[&str], v: Value) {
    match path {
        [last] => {
            obj.insert((*last).to_owned(), v);
        }
        [first, rest @ ..] => {
            let entry = obj.entry((*first).to_owned()).or_insert_with(|| json!({}));
            if let Value::Object(m) = entry {
                set(m, rest, v);
            }
        }
        [] => {}
    }
}

/// A CSV cell as an attribute value: number, boolean or text.
fn scalar(s: &str) -> Value {
    if let Ok(n) = s.parse::<f64>()
        && n.is_finite()
        && let Some(num) = serde_json::Number::from_f64(n)
    {
        return Value::Number(num);
    }
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(s.to_owned()),
    }
}

/// Maps a CSV row onto the intake-v1 order shape (columns in docs/import.md).
fn csv_order(headers: &[String], record: &csv::StringRecord) -> Result<Value, FieldError> {
    let mut o = Map::new();
    let mut amount: Option<&str> = None;
    let mut currency: Option<&str> = None;
    for (h, v) in cells(headers, record) {
        let s = || Value::String(v.to_owned());
        match h {
            "order_id" | "placed_at" | "channel" => set(&mut o, &[h], s()),
            "customer_id" | "email" | "phone" | "name" | "invited_by" => set(&mut o, &["customer", h], s()),
            "customer_created_at" => set(&mut o, &["customer", "created_at"], s()),
            "total_amount" => amount = Some(v),
            "currency" => currency = Some(v),
            "payment_method" => set(&mut o, &["payment", "method"], s()),
            "card_bin" | "card_last4" | "card_fingerprint" | "card_issuer_country" => {
                set(&mut o, &["payment", "card", &h["card_".len()..]], s())
            }
            "iban" | "wallet_id" => set(&mut o, &["payment", h], s()),
            "device_id" | "ip" | "user_agent" => set(&mut o, &["device", h], s()),
            "promo_codes" => {
                set(&mut o, &[h], Value::Array(v.split(';').map(|c| Value::String(c.trim().to_owned())).collect()))
            }
            "items" => {
                let items: Value = serde_json::from_str(v).map_err(|e| {
                    FieldError::new("invalid_type", "items", format!("items column must be a JSON array: {e}"))
                })?;
                set(&mut o, &[h], items);
            }
            _ => {
                if let Some(rest) = h.strip_prefix("billing_") {
                    set(&mut o, &["billing_address", rest], s());
                } else if let Some(rest) = h.strip_prefix("shipping_") {
                    set(&mut o, &["shipping_address", rest], s());
                } else if let Some(name) = h.strip_prefix("attr_") {
                    set(&mut o, &["attributes", name], scalar(v));
                }
                // other columns are ignored, like unknown JSON fields
            }
        }
    }
    if amount.is_some() || currency.is_some() {
        let mut m = Map::new();
        if let Some(a) = amount {
            m.insert("amount".into(), Value::String(a.to_owned()));
        }
        if let Some(c) = currency {
            m.insert("currency".into(), Value::String(c.to_owned()));
        }
        o.insert("total".into(), Value::Object(m));
    }
    Ok(Value::Object(o))
}

/// Maps a CSV row onto the intake-v1 event shape (columns in docs/import.md).
fn csv_event(headers: &[String], record: &csv::StringRecord) -> Result<Value, FieldError> {
    let mut e = Map::new();
    let mut data = Map::new();
    let (mut amount, mut currency) = (None, None);
    for (h, v) in cells(headers, record) {
        match h {
            "event_id" | "type" | "occurred_at" | "order_id" | "customer_id" => {
                e.insert(h.to_owned(), Value::String(v.to_owned()));
            }
            "data" => {
                let parsed: Value = serde_json::from_str(v).map_err(|err| {
                    FieldError::new("invalid_type", "data", format!("data column must be a JSON object: {err}"))
                })?;
                match parsed {
                    Value::Object(m) => data.extend(m),
                    _ => return Err(FieldError::new("invalid_type", "data", "data column must be a JSON object")),
                }
            }
            "reason_code" | "psp_reference" | "claim" | "condition" => {
                data.insert(h.to_owned(), Value::String(v.to_owned()));
            }
            "amount" => amount = Some(v.to_owned()),
            "currency" => currency = Some(v.to_owned()),
            _ => {}
        }
    }
    if amount.is_some() || currency.is_some() {
        data.insert("amount".into(), json!({"amount": amount, "currency": currency}));
    }
    if !data.is_empty() {
        e.insert("data".into(), Value::Object(data));
    }
    Ok(Value::Object(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(headers: &[&str], values: &[&str]) -> (Vec<String>, csv::StringRecord) {
        (headers.iter().map(|s| s.to_string()).collect(), csv::StringRecord::from(values.to_vec()))
    }

    #[test]
    fn csv_orders_map_onto_intake() {
        let (h, r) = rec(
            &[
                "order_id",
                "placed_at",
                "customer_id",
                "email",
                "total_amount",
                "currency",
                "payment_method",
                "card_fingerprint",
                "shipping_line1",
                "shipping_country",
                "promo_codes",
                "attr_checkout_seconds",
                "items",
                "unknown",
            ],
            &[
                "A-1",
                "2026-01-01T00:00:00Z",
                "C-1",
                "a@example.com",
                "10.00",
                "EUR",
                "card",
                "fp1",
                "Torstr. 1",
                "DE",
                "A;B",
                "41",
                r#"[{"sku":"S","quantity":2}]"#,
                "x",
            ],
        );
        let v = csv_order(&h, &r).unwrap();
        let o = parse_order(OrderIn::deserialize(&v).unwrap()).unwrap();
        assert_eq!(o.total.minor, 1000);
        assert_eq!(o.payment.card.unwrap().fingerprint.as_deref(), Some("fp1"));
        assert_eq!(o.promo_codes, vec!["A", "B"]);
        assert_eq!(o.items[0].quantity, 2);
        assert_eq!(o.attributes["checkout_seconds"], riskdesk_domain::AttributeValue::Number(41.0));
    }

    #[test]
    fn csv_events_map_onto_intake() {
        let (h, r) = rec(
            &["event_id", "type", "occurred_at", "order_id", "reason_code", "amount", "currency"],
            &["E-1", "chargeback_received", "2026-01-01T00:00:00Z", "A-1", "10.4", "5.00", "EUR"],
        );
        let bytes = serde_json::to_vec(&csv_event(&h, &r).unwrap()).unwrap();
        let e = parse_event(decode::<EventIn>(&bytes).unwrap()).unwrap();
        assert_eq!(e.data["amount"]["amount"], "5.00");
        assert_eq!(e.data["reason_code"], "10.4");
    }
}
