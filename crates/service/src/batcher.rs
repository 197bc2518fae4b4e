//! Group commit: concurrent submissions are written together, in one transaction.
//!
//! SQLite has one writer, and every transaction costs a fixed round of statements and a WAL
//! commit; PostgreSQL pays a round trip per statement. A single task takes whatever is waiting
//! (up to `MAX_BATCH`), writes it with one `insert_*` call, and answers each caller with its own
//! outcome. A caller is answered only after the commit, so nothing acknowledged can be lost. Under
//! light load a batch is one item and nothing waits; under heavy load batches grow by themselves.
//!
//! On a backend whose writes block on one connection of its own (SQLite, see
//! `riskdesk_store::BlockingWriter`), the batching loop runs on a thread of its own
//! ([`Batcher::spawn_thread`]): after each commit it takes the next batch itself, and the store
//! keeps its write turn while batches keep coming. The async loop ([`Batcher::spawn`]) hands every
//! batch to a blocking thread and waits to be woken again, and SQLite's write turn went back to
//! the pool's async side after each batch. On two busy cores those hand-offs left the writer idle
//! about a quarter of the time: 190 against 134 µs of writer time per order, side by side
//! (BENCHMARKS.md).
//!
//! Each write is measured: `riskdesk_group_commit_items` (batch sizes) and
//! `riskdesk_group_commit_seconds` (time to write and commit a batch), labelled by writer. Their
//! sums give the writer's busy time per item, the figure that bounds intake on SQLite.

use riskdesk_store::{InsertOutcome, StoreError, StoreResult};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

pub const MAX_BATCH: usize = 256;

type Reply<R> = oneshot::Sender<Result<R, Arc<StoreError>>>;
type WriteFn<T, R> = Arc<dyn Fn(Vec<T>) -> Pin<Box<dyn Future<Output = StoreResult<Vec<R>>> + Send>> + Send + Sync>;
type BlockingWriteFn<T, R> = Arc<dyn Fn(Vec<T>) -> StoreResult<Vec<R>> + Send + Sync>;

/// Submits items of type `T`; each caller gets its own `R` (what became of its item).
pub struct Batcher<T, R = InsertOutcome> {
    tx: mpsc::Sender<(T, Reply<R>)>,
}

impl<T, R> Clone for Batcher<T, R> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone() }
    }
}

/// One group commit: the items waiting, and whom to answer.
struct Group<T, R> {
    writer: &'static str,
    items: Vec<T>,
    replies: Vec<Reply<R>>,
}

impl<T, R> Group<T, R> {
    fn new(writer: &'static str) -> Self {
        Self { writer, items: Vec::with_capacity(MAX_BATCH), replies: Vec::with_capacity(MAX_BATCH) }
    }

    /// Takes `first` and whatever else is waiting, up to [`MAX_BATCH`]; returns the items.
    fn gather(&mut self, first: (T, Reply<R>), rx: &mut mpsc::Receiver<(T, Reply<R>)>) -> Vec<T> {
        let mut next = Some(first);
        while let Some((item, reply)) = next {
            self.items.push(item);
            self.replies.push(reply);
            next = if self.items.len() < MAX_BATCH { rx.try_recv().ok() } else { None };
        }
        tracing::trace!(batch = self.items.len(), "group commit");
        metrics::histogram!("riskdesk_group_commit_items", "writer" => self.writer).record(self.items.len() as f64);
        std::mem::take(&mut self.items)
    }

    /// Answers every caller of the group with its outcome, or all with the batch's error.
    fn answer(&mut self, written: StoreResult<Vec<R>>, start: std::time::Instant) {
        metrics::histogram!("riskdesk_group_commit_seconds", "writer" => self.writer)
            .record(start.elapsed().as_secs_f64());
        match written {
            Ok(outcomes) => {
                for (reply, outcome) in self.replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                for reply in self.replies.drain(..) {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Spawns the writing task on the current runtime; `writer` labels its metrics.
    pub fn spawn(writer: &'static str, write: WriteFn<T, R>) -> Self {
        let (tx, mut rx) = mpsc::channel::<(T, Reply<R>)>(MAX_BATCH * 16);
        tokio::spawn(async move {
            let mut group = Group::new(writer);
            while let Some(first) = rx.recv().await {
                let items = group.gather(first, &mut rx);
                let start = std::time::Instant::now();
                let written = write(items).await;
                group.answer(written, start);
            }
        });
        Self { tx }
    }

    /// Spawns the writing loop on a thread of its own, named after `writer`, with a write that
    /// blocks until committed. The thread lives in the current runtime's context (the write may
    /// wait on async parts of the store) and ends when the last [`Batcher`] clone is dropped.
    /// `idle` runs whenever the queue has run dry, before the thread waits.
    pub fn spawn_thread(
        writer: &'static str,
        write: BlockingWriteFn<T, R>,
        idle: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Self> {
        let (tx, mut rx) = mpsc::channel::<(T, Reply<R>)>(MAX_BATCH * 16);
        let rt = tokio::runtime::Handle::current();
        std::thread::Builder::new().name(format!("rd-{writer}")).spawn(move || {
            let _rt = rt.enter();
            let mut group = Group::new(writer);
            loop {
                let first = match rx.try_recv() {
                    Ok(first) => first,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        idle();
                        match rx.blocking_recv() {
                            Some(first) => first,
                            None => break,
                        }
                    }
                };
                let items = group.gather(first, &mut rx);
                let start = std::time::Instant::now();
                // A panic fails its batch, not the writer: later batches still get written.
                let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(items)))
                    .unwrap_or_else(|_| Err(StoreError::Database("the write failed unexpectedly".into())));
                group.answer(written, start);
            }
            idle();
        })?;
        Ok(Self { tx })
    }

    /// Queues one item and waits until it is committed (or the batch failed).
    pub async fn submit(&self, item: T) -> StoreResult<R> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((item, reply)).await.map_err(|_| StoreError::Database("writer stopped".into()))?;
        match answer.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(e)) => Err(StoreError::Database(e.to_string())),
            Err(_) => Err(StoreError::Database("writer stopped".into())),
        }
    }
}
