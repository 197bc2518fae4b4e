//! Group commit: concurrent submissions are written together, in one transaction.
//!
//! SQLite has one writer, and every transaction costs a fixed round of statements and a WAL
//! commit; PostgreSQL pays a round trip per statement. A single task takes whatever is waiting
//! (up to `MAX_BATCH`), writes it with one `insert_*` call, and answers each caller with its own
//! outcome. A caller is answered only after the commit, so nothing acknowledged can be lost. Under
//! light load a batch is one item and nothing waits; under heavy load batches grow by themselves.
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

/// Submits items of type `T`; each caller gets its own `R` (what became of its item).
pub struct Batcher<T, R = InsertOutcome> {
    tx: mpsc::Sender<(T, Reply<R>)>,
}

impl<T, R> Clone for Batcher<T, R> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone() }
    }
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Spawns the writing task on the current runtime; `writer` labels its metrics.
    pub fn spawn(writer: &'static str, write: WriteFn<T, R>) -> Self {
        let (tx, mut rx) = mpsc::channel::<(T, Reply<R>)>(MAX_BATCH * 16);
        tokio::spawn(async move {
            let mut items = Vec::with_capacity(MAX_BATCH);
            let mut replies = Vec::with_capacity(MAX_BATCH);
            while let Some((item, reply)) = rx.recv().await {
                items.push(item);
                replies.push(reply);
                while items.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok((item, reply)) => {
                            items.push(item);
                            replies.push(reply);
                        }
                        Err(_) => break,
                    }
                }
                tracing::trace!(batch = items.len(), "group commit");
                metrics::histogram!("riskdesk_group_commit_items", "writer" => writer).record(items.len() as f64);
                let start = std::time::Instant::now();
                let written = write(std::mem::take(&mut items)).await;
                metrics::histogram!("riskdesk_group_commit_seconds", "writer" => writer)
                    .record(start.elapsed().as_secs_f64());
                match written {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.drain(..).zip(outcomes) {
                            let _ = reply.send(Ok(outcome));
                        }
                    }
                    Err(e) => {
                        let e = Arc::new(e);
                        for reply in replies.drain(..) {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Self { tx }
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
