//! Prometheus metrics (`GET /metrics`, text format). Labels are bounded: routes are the matched route
//! templates, never raw paths; no text ever becomes a label.

use crate::analysis::Analysis;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub stage_seconds: HistogramVec,
    pub batch_size: HistogramVec,
    pub queue_depth: IntGauge,
    pub in_flight: IntGauge,
    pub escalations: IntCounterVec,
    pub categories: IntCounterVec,
    pub sentiments: IntCounterVec,
    pub priorities: IntCounterVec,
    pub conversations: IntGauge,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "xinsheng_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("metric");
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "xinsheng_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("metric");
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new(
                "xinsheng_stage_duration_seconds",
                "Time per request in each engine stage: tokenize, queue, inference, postprocess",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["stage"],
        )
        .expect("metric");
        let batch_size = HistogramVec::new(
            HistogramOpts::new(
                "xinsheng_batch",
                "Model batches: texts per batch (unit=texts) and padded tokens per batch (unit=tokens)",
            )
            .buckets(vec![
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
                8192.0, 16384.0,
            ]),
            &["unit"],
        )
        .expect("metric");
        let queue_depth = IntGauge::new(
            "xinsheng_queue_depth",
            "Texts waiting for the inference thread",
        )
        .expect("metric");
        let in_flight = IntGauge::new(
            "xinsheng_in_flight_requests",
            "Analysis requests being served",
        )
        .expect("metric");
        let escalations = IntCounterVec::new(
            Opts::new(
                "xinsheng_escalations_total",
                "Escalated analyses by reason (one count per reason)",
            ),
            &["reason"],
        )
        .expect("metric");
        let categories = IntCounterVec::new(
            Opts::new(
                "xinsheng_categories_total",
                "Complaint categories above threshold",
            ),
            &["category"],
        )
        .expect("metric");
        let sentiments = IntCounterVec::new(
            Opts::new("xinsheng_sentiment_total", "Analyses by sentiment label"),
            &["label"],
        )
        .expect("metric");
        let priorities = IntCounterVec::new(
            Opts::new("xinsheng_priority_total", "Analyses by risk priority"),
            &["priority"],
        )
        .expect("metric");
        let conversations = IntGauge::new(
            "xinsheng_conversations_active",
            "Chatbot conversations held in memory",
        )
        .expect("metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(request_seconds.clone()),
            Box::new(stage_seconds.clone()),
            Box::new(batch_size.clone()),
            Box::new(queue_depth.clone()),
            Box::new(in_flight.clone()),
            Box::new(escalations.clone()),
            Box::new(categories.clone()),
            Box::new(sentiments.clone()),
            Box::new(priorities.clone()),
            Box::new(conversations.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Self {
            registry,
            requests,
            request_seconds,
            stage_seconds,
            batch_size,
            queue_depth,
            in_flight,
            escalations,
            categories,
            sentiments,
            priorities,
            conversations,
        }
    }

    /// Counts what an analysis found (labels only, never text).
    pub fn record_analysis(&self, a: &Analysis) {
        if let Some(s) = &a.sentiment {
            self.sentiments.with_label_values(&[s.label.as_str()]).inc();
        }
        for c in &a.categories {
            self.categories.with_label_values(&[c.label.as_str()]).inc();
        }
        self.priorities.with_label_values(&[a.risk.priority]).inc();
        if a.risk.escalate {
            for r in &a.risk.reasons {
                self.escalations.with_label_values(&[*r]).inc();
            }
        }
    }

    pub fn observe_stage(&self, stage: &str, seconds: f64) {
        self.stage_seconds
            .with_label_values(&[stage])
            .observe(seconds);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
