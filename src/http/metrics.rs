//! Prometheus metrics (the `prometheus` crate): requests and latency by method, route and
//! status, kept in memory per instance; queue depth and dead jobs are read from the database
//! at scrape time by the caller; the last audit verification's result.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

const REQUEST_LABELS: [&str; 3] = ["method", "route", "status"];

/// 1 when the last audit verification passed, 0 when it failed, -1 before the first one.
static AUDIT_CHAIN_OK: AtomicI64 = AtomicI64::new(-1);

pub fn set_audit_chain_ok(ok: bool) {
    AUDIT_CHAIN_OK.store(i64::from(ok), Ordering::Relaxed);
}

/// One instance's metrics, in their own registry (tests run several instances in a process).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    queued: IntGaugeVec,
    dead: IntGauge,
    audit_chain_ok: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        // The options below are constants; building them only fails on an invalid name.
        Self::new().unwrap_or_else(|e| panic!("metric definitions are invalid: {e}"))
    }
}

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests served, by method, route and status.",
            ),
            &REQUEST_LABELS,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to serve a request.")
                .buckets(BUCKETS.to_vec()),
            &REQUEST_LABELS,
        )?;
        let queued = IntGaugeVec::new(
            Opts::new(
                "jobs_queued",
                "Jobs in the durable queue that are not done, by state.",
            ),
            &["state"],
        )?;
        let dead = IntGauge::new(
            "jobs_dead",
            "Jobs that exhausted their attempts and wait for an administrator.",
        )?;
        let audit_chain_ok = IntGauge::new(
            "audit_chain_ok",
            "Result of the last audit-chain verification (1 ok, 0 broken, -1 not yet run).",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(queued.clone()))?;
        registry.register(Box::new(dead.clone()))?;
        registry.register(Box::new(audit_chain_ok.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            queued,
            dead,
            audit_chain_ok,
        })
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition (format 0.0.4). `queued` is the number of jobs in each
    /// not-done state and `dead` those waiting for an administrator, read by the caller from
    /// the queue at scrape time.
    pub fn render(&self, queued: &[(&str, i64)], dead: i64) -> String {
        for (state, n) in queued {
            self.queued.with_label_values(&[*state]).set(*n);
        }
        self.dead.set(dead);
        self.audit_chain_ok
            .set(AUDIT_CHAIN_OK.load(Ordering::Relaxed));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges_in_the_text_format() {
        let m = Metrics::default();
        m.observe_request("GET", "/pool", 200, Duration::from_millis(3));
        m.observe_request("GET", "/pool", 200, Duration::from_millis(30));
        m.observe_request("GET", "/a\"b", 404, Duration::from_millis(1));
        let text = m.render(&[("pending", 2), ("running", 0), ("dead", 1)], 1);
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="/pool",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="/a\"b",status="404"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"http_request_duration_seconds_bucket{method="GET",route="/pool",status="200",le="0.005"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"jobs_queued{state="pending"} 2"#), "{text}");
        assert!(text.contains("jobs_dead 1"), "{text}");
        assert!(text.contains("audit_chain_ok -1"), "{text}");
    }
}
