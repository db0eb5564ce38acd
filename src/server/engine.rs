//! The inference engine behind the server: async handlers never run the model themselves.
//!
//! A request's path: **tokenize** (check, normalize, encode: [`Analyzer::prepare`]) on a small pool of
//! worker threads → **queue** (a channel to the inference thread) → **inference** on one dedicated thread,
//! the single owner of the queue, which packs the waiting texts of all requests into batches under a token
//! budget (`max_batch_tokens` padded tokens and `max_batch_size` texts), collecting requests that arrive
//! within `batch_wait` of the first, and taking one text of each waiting request in turn (round robin), so a
//! short request is not held behind every window of a large one → **postprocess** (keywords, masking, risk: [`Analyzer::finish`]) back
//! on the worker pool. Each stage's time is reported per request ([`Timings`]) and in the metrics.

use crate::analysis::{Analysis, AnalyzeError, Analyzer, Prepared, Request};
use crate::model::{HeadProbs, ModelError};
use crate::server::metrics::Metrics;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Most padded tokens (texts × longest text) in one model batch.
    pub max_batch_tokens: usize,
    /// Most texts in one model batch.
    pub max_batch_size: usize,
    /// How long the inference thread waits for more requests after the first one arrives on an idle queue.
    pub batch_wait: Duration,
    /// Threads for tokenization and postprocessing.
    pub workers: usize,
}

/// Time a request spent in each stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub tokenize: Duration,
    pub queue: Duration,
    pub inference: Duration,
    pub postprocess: Duration,
}

/// What the inference thread sends back for one job.
type JobResult = Result<(Vec<HeadProbs>, Duration, Duration), String>;

struct Job {
    ids: Vec<Vec<u32>>,
    reply: oneshot::Sender<JobResult>,
    enqueued: Instant,
}

pub struct Engine {
    analyzer: Arc<Analyzer>,
    pool: rayon::ThreadPool,
    tx: mpsc::Sender<Job>,
    ready: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
}

impl Engine {
    /// Starts the worker pool and the inference thread (which warms the model up, then reports ready).
    pub fn start(
        analyzer: Arc<Analyzer>,
        cfg: EngineConfig,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.workers.max(1))
            .thread_name(|i| format!("xinsheng-worker-{i}"))
            .panic_handler(|_| tracing::error!("a worker task panicked"))
            .build()
            .map_err(std::io::Error::other)?;
        let (tx, rx) = mpsc::channel();
        let ready = Arc::new(AtomicBool::new(false));
        {
            let analyzer = analyzer.clone();
            let ready = ready.clone();
            let metrics = metrics.clone();
            std::thread::Builder::new()
                .name("xinsheng-inference".into())
                .spawn(move || inference_loop(&analyzer, &rx, &cfg, &metrics, &ready))?;
        }
        Ok(Self {
            analyzer,
            pool,
            tx,
            ready,
            metrics,
        })
    }

    /// True once the model is loaded and has answered a warm-up batch.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Runs `f` on the worker pool without blocking the async runtime.
    async fn on_pool<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AnalyzeError> {
        let (tx, rx) = oneshot::channel();
        self.pool.spawn(move || {
            let _ = tx.send(f());
        });
        rx.await
            .map_err(|_| model_error("a worker task failed".into()))
    }

    /// Analyzes requests (one result per request, in order) through the pipeline.
    pub async fn analyze(
        &self,
        reqs: Vec<Request>,
    ) -> (Vec<Result<Analysis, AnalyzeError>>, Timings) {
        let mut timings = Timings::default();
        let n = reqs.len();
        let t0 = Instant::now();
        let analyzer = self.analyzer.clone();
        let prepared = match self
            .on_pool(move || reqs.iter().map(|r| analyzer.prepare(r)).collect::<Vec<_>>())
            .await
        {
            Ok(p) => p,
            Err(e) => return (all_failed(n, &e), timings),
        };
        timings.tokenize = t0.elapsed();
        self.metrics
            .observe_stage("tokenize", timings.tokenize.as_secs_f64());

        // One job with every text of every valid request; `spans` finds each request's share.
        let mut prepared = prepared;
        let mut ids = Vec::new();
        let mut spans = Vec::with_capacity(n);
        for p in prepared.iter_mut() {
            match p {
                Ok(p) => {
                    let start = ids.len();
                    ids.append(&mut p.ids);
                    spans.push(start..ids.len());
                }
                Err(_) => spans.push(0..0),
            }
        }
        let probs = if ids.is_empty() {
            Vec::new()
        } else {
            match self.infer(ids, &mut timings).await {
                Ok(p) => p,
                Err(msg) => {
                    let e = model_error(msg);
                    let results = prepared
                        .into_iter()
                        .map(|p| p.and_then(|_| Err(model_error(e.to_string()))))
                        .collect();
                    return (results, timings);
                }
            }
        };

        let t2 = Instant::now();
        let analyzer = self.analyzer.clone();
        let results = self
            .on_pool(move || {
                prepared
                    .into_iter()
                    .zip(spans)
                    .map(|(p, span)| p.map(|p: Prepared| analyzer.finish(p, &probs[span])))
                    .collect::<Vec<_>>()
            })
            .await;
        timings.postprocess = t2.elapsed();
        self.metrics
            .observe_stage("postprocess", timings.postprocess.as_secs_f64());
        match results {
            Ok(r) => {
                for a in r.iter().flatten() {
                    self.metrics.record_analysis(a);
                }
                (r, timings)
            }
            Err(e) => (all_failed(n, &e), timings),
        }
    }

    async fn infer(
        &self,
        ids: Vec<Vec<u32>>,
        timings: &mut Timings,
    ) -> Result<Vec<HeadProbs>, String> {
        let (reply, rx) = oneshot::channel();
        let count = ids.len() as i64;
        self.metrics.queue_depth.add(count);
        let job = Job {
            ids,
            reply,
            enqueued: Instant::now(),
        };
        if self.tx.send(job).is_err() {
            self.metrics.queue_depth.sub(count);
            return Err("the inference thread has stopped".into());
        }
        let (probs, queue, inference) = rx
            .await
            .map_err(|_| "the inference thread dropped the request".to_string())??;
        timings.queue = queue;
        timings.inference = inference;
        self.metrics.observe_stage("queue", queue.as_secs_f64());
        self.metrics
            .observe_stage("inference", inference.as_secs_f64());
        Ok(probs)
    }
}

fn model_error(msg: String) -> AnalyzeError {
    AnalyzeError::Model(ModelError::Device(msg))
}

fn all_failed(n: usize, e: &AnalyzeError) -> Vec<Result<Analysis, AnalyzeError>> {
    (0..n).map(|_| Err(model_error(e.to_string()))).collect()
}

/// A job the inference thread is working through: texts `next..` are still to be batched.
struct Active {
    job: Job,
    next: usize,
    probs: Vec<HeadProbs>,
    started: Option<Instant>,
    failed: Option<String>,
}

impl Active {
    fn done(&self) -> bool {
        self.failed.is_some() || self.next >= self.job.ids.len()
    }

    fn finish(self, metrics: &Metrics) {
        let unbatched = (self.job.ids.len() - self.next.min(self.job.ids.len())) as i64;
        metrics.queue_depth.sub(unbatched);
        let started = self.started.unwrap_or_else(Instant::now);
        let result = match self.failed {
            Some(e) => Err(e),
            None => Ok((self.probs, started - self.job.enqueued, started.elapsed())),
        };
        let _ = self.job.reply.send(result);
    }
}

/// The single owner of the request queue: builds batches and runs the model, until every sender is gone.
fn inference_loop(
    analyzer: &Analyzer,
    rx: &mpsc::Receiver<Job>,
    cfg: &EngineConfig,
    metrics: &Metrics,
    ready: &AtomicBool,
) {
    let model = &analyzer.model;
    let warm = model.encoder.encode("您好，请问有什么可以帮您");
    match model.predict_encoded(&[warm.as_slice()]) {
        Ok(_) => ready.store(true, Ordering::Release),
        Err(e) => tracing::error!(error = %e, "model warm-up failed; not ready"),
    }
    let max_size = cfg.max_batch_size.max(1);
    let max_tokens = cfg.max_batch_tokens.max(1);
    let mut jobs: VecDeque<Active> = VecDeque::new();
    let push = |jobs: &mut VecDeque<Active>, job: Job| {
        let n = job.ids.len();
        jobs.push_back(Active {
            job,
            next: 0,
            probs: Vec::with_capacity(n),
            started: None,
            failed: None,
        });
    };
    loop {
        if jobs.is_empty() {
            match rx.recv() {
                Ok(job) => push(&mut jobs, job),
                Err(_) => return,
            }
            // Idle queue: give other requests a short window to join this batch.
            let deadline = Instant::now() + cfg.batch_wait;
            loop {
                let waiting: usize = jobs.iter().map(|a| a.job.ids.len()).sum();
                let now = Instant::now();
                if waiting >= max_size || now >= deadline {
                    break;
                }
                match rx.recv_timeout(deadline - now) {
                    Ok(job) => push(&mut jobs, job),
                    Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        while let Ok(job) = rx.try_recv() {
            push(&mut jobs, job);
        }
        // Requests whose caller has gone (timeout, closed connection) are dropped unprocessed.
        jobs.retain(|a| {
            let gone = a.job.reply.is_closed();
            if gone {
                metrics.queue_depth.sub((a.job.ids.len() - a.next) as i64);
            }
            !gone
        });

        let batch = next_batch(&jobs, max_size, max_tokens);
        let longest = batch
            .iter()
            .map(|&(j, t)| jobs[j].job.ids[t].len())
            .max()
            .unwrap_or(0);
        if batch.is_empty() {
            continue;
        }
        let start = Instant::now();
        let texts: Vec<&[u32]> = batch
            .iter()
            .map(|&(j, t)| jobs[j].job.ids[t].as_slice())
            .collect();
        let result = model.predict_encoded(&texts);
        metrics.queue_depth.sub(batch.len() as i64);
        metrics
            .batch_size
            .with_label_values(&["texts"])
            .observe(batch.len() as f64);
        metrics
            .batch_size
            .with_label_values(&["tokens"])
            .observe((batch.len() * longest) as f64);
        match result {
            Ok(probs) => {
                for (&(j, _), p) in batch.iter().zip(probs) {
                    let a = &mut jobs[j];
                    a.started.get_or_insert(start);
                    a.probs.push(p);
                    a.next += 1;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, texts = batch.len(), "model batch failed");
                for &(j, _) in &batch {
                    let a = &mut jobs[j];
                    a.started.get_or_insert(start);
                    a.next += 1;
                    a.failed = Some(e.to_string());
                }
            }
        }
        // Round robin finishes a short request before a large one that arrived earlier.
        let mut i = 0;
        while i < jobs.len() {
            if jobs[i].done() {
                if let Some(a) = jobs.remove(i) {
                    a.finish(metrics);
                }
            } else {
                i += 1;
            }
        }
    }
}

/// The next batch, as (job, text) pairs: one text of each waiting job in turn (round robin, jobs in
/// arrival order, each job's texts in order), while the batch stays within `max_size` texts and
/// `max_tokens` padded tokens (texts × longest text). A job of thousands of windows thus shares every
/// batch with the jobs that arrive after it instead of making them wait for all of it.
fn next_batch(jobs: &VecDeque<Active>, max_size: usize, max_tokens: usize) -> Vec<(usize, usize)> {
    let mut batch: Vec<(usize, usize)> = Vec::new();
    let mut longest = 0usize;
    for round in 0.. {
        let mut took = false;
        for (j, a) in jobs.iter().enumerate() {
            let t = a.next + round;
            let Some(ids) = a.job.ids.get(t) else {
                continue;
            };
            let l = longest.max(ids.len());
            if !batch.is_empty()
                && (batch.len() + 1 > max_size || (batch.len() + 1) * l > max_tokens)
            {
                return batch;
            }
            batch.push((j, t));
            longest = l;
            took = true;
        }
        if !took {
            break;
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(lens: &[usize], next: usize) -> Active {
        let (reply, _rx) = oneshot::channel();
        Active {
            job: Job {
                ids: lens.iter().map(|&n| vec![0; n]).collect(),
                reply,
                enqueued: Instant::now(),
            },
            next,
            probs: Vec::new(),
            started: None,
            failed: None,
        }
    }

    #[test]
    fn a_short_request_shares_the_next_batch_with_a_large_one() {
        // A large request (10 windows, 2 done) arrived first, then a one-text request.
        let jobs: VecDeque<Active> = [active(&[100; 10], 2), active(&[5], 0)].into();
        assert_eq!(
            next_batch(&jobs, 4, 10_000),
            [(0, 2), (1, 0), (0, 3), (0, 4)],
            "round robin: the short one is in the next batch, each job's texts in order"
        );
        // The padded budget (texts × longest) is kept: a third text of 100 tokens would make 300.
        assert_eq!(next_batch(&jobs, 64, 250), [(0, 2), (1, 0)]);
        // A text over the budget on its own still makes a batch of one.
        assert_eq!(next_batch(&jobs, 64, 50), [(0, 2)]);
        // Every text of every job once, when they all fit.
        let jobs: VecDeque<Active> = [active(&[3, 3], 0), active(&[3, 3, 3], 1)].into();
        assert_eq!(
            next_batch(&jobs, 64, 10_000),
            [(0, 0), (1, 1), (0, 1), (1, 2)]
        );
        assert!(next_batch(&VecDeque::new(), 64, 10_000).is_empty());
    }
}
