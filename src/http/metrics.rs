//! Prometheus metrics kept in memory: requests and latency by route and status. Queue depth
//! and dead jobs are read from the database at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

/// 1 when the last audit verification passed, 0 when it failed, -1 before the first one.
static AUDIT_CHAIN_OK: AtomicI64 = AtomicI64::new(-1);

pub fn set_audit_chain_ok(ok: bool) {
    AUDIT_CHAIN_OK.store(i64::from(ok), Ordering::Relaxed);
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Ok(mut series) = self.series.lock() {
            let s = series
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default();
            s.count += 1;
            s.sum += secs;
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    s.buckets[i] += 1;
                }
            }
        }
    }

    /// The Prometheus text exposition (format 0.0.4). `queued` is the number of jobs in each
    /// not-done state (in the order given) and `dead` those waiting for an administrator, read
    /// by the caller from the queue at scrape time.
    pub fn render(&self, queued: &[(&str, i64)], dead: i64) -> String {
        let mut out = String::new();
        let series = self.series.lock().map(|s| s.clone()).unwrap_or_default();
        out.push_str(
            "# HELP http_requests_total HTTP requests served, by method, route and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        for ((method, route, status), s) in &series {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP http_request_duration_seconds Time to serve a request.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in &series {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out.push_str("# HELP jobs_queued Jobs in the durable queue that are not done, by state.\n");
        out.push_str("# TYPE jobs_queued gauge\n");
        for (state, n) in queued {
            let _ = writeln!(out, "jobs_queued{{state=\"{state}\"}} {n}");
        }
        out.push_str(
            "# HELP jobs_dead Jobs that exhausted their attempts and wait for an administrator.\n",
        );
        out.push_str("# TYPE jobs_dead gauge\n");
        let _ = writeln!(out, "jobs_dead {dead}");
        out.push_str("# HELP audit_chain_ok Result of the last audit-chain verification (1 ok, 0 broken, -1 not yet run).\n");
        out.push_str("# TYPE audit_chain_ok gauge\n");
        let _ = writeln!(
            out,
            "audit_chain_ok {}",
            AUDIT_CHAIN_OK.load(Ordering::Relaxed)
        );
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
