//! The audit chain's verification under load: `GET /audit/verify` and the periodic check read
//! the events and the head in one snapshot, so appends committing meanwhile never look like a
//! deleted tail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::common::TestApp;
use provider_registry::auth::Role;
use provider_registry::jobs::registry::{Handler, JobEnv, JobInfo};
use reqwest::StatusCode;
use serde_json::Value;

const VERIFICATIONS: usize = 100;
/// Concurrent writers, so that appends commit often enough to fall between a check's reads.
const WRITERS: usize = 3;

/// Starts `WRITERS` tasks that update the institution's profile (one audit event each) until
/// `stop`; returns a handle that joins them and the count of updates done.
async fn profile_writers(
    app: &TestApp,
    stop: Arc<AtomicBool>,
) -> (tokio::task::JoinHandle<()>, Arc<AtomicUsize>) {
    let token = app.token(Role::Institution).await;
    let url = format!("{}/api/v1/institutions/me", app.base);
    let writes = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (client, url, token) = (app.client.clone(), url.clone(), token.clone());
            let (stop, done) = (stop.clone(), writes.clone());
            tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let res = client
                        .put(&url)
                        .bearer_auth(&token)
                        .json(&crate::common::flow::profile_update(&format!(
                            "南宁市青秀区民族大道{n}号"
                        )))
                        .send()
                        .await
                        .unwrap();
                    let status = res.status();
                    assert_eq!(status, StatusCode::OK, "{}", res.text().await.unwrap());
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let handle = tokio::spawn(async move {
        for w in writers {
            w.await.unwrap();
        }
    });
    (handle, writes)
}

/// Waits until the writers have committed at least `n` updates.
async fn writes_beyond(writes: &AtomicUsize, n: usize) {
    while writes.load(Ordering::Relaxed) < n {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_beside_concurrent_writes_raises_no_false_alarm() {
    let app = TestApp::spawn().await;
    let reviewer = app.token(Role::Reviewer).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (writer, writes) = profile_writers(&app, stop.clone()).await;
    writes_beyond(&writes, 3).await;

    let mut alarms = Vec::new();
    let mut lengths = Vec::new();
    let mut seen = writes.load(Ordering::Relaxed);
    for _ in 0..VERIFICATIONS {
        // Paced by the writers: at least one append commits between two verifications, and
        // the others keep committing while this one reads. A write counted after the previous
        // verification may have committed before its snapshot (one in flight per writer), so
        // one more than `WRITERS` of them are waited for.
        writes_beyond(&writes, seen + WRITERS + 1).await;
        let res = app
            .get("/api/v1/audit/verify")
            .bearer_auth(&reviewer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        if body["ok"] != true {
            alarms.push(body.clone());
        }
        lengths.push(body["events"].as_i64().unwrap());
        seen = writes.load(Ordering::Relaxed);
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    assert!(
        alarms.is_empty(),
        "{} false alarms, the first: {}",
        alarms.len(),
        alarms[0]
    );
    // Each verification saw the appends committed before it started: a snapshot, not a
    // stale answer.
    assert!(
        lengths.windows(2).all(|w| w[1] > w[0]),
        "the chain did not grow between verifications: {lengths:?}"
    );
    // A quiet chain verifies in full, to its head.
    let last: Value = app
        .get("/api/v1/audit/verify")
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last["ok"], true, "{last}");
    assert!(last["events"].as_i64().unwrap() > *lengths.last().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_check_beside_concurrent_writes_raises_no_false_alarm() {
    const METRICS_TOKEN: &str = "operator-scrape-token-0123456789";
    let app = TestApp::spawn_with(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (writer, writes) = profile_writers(&app, stop.clone()).await;
    writes_beyond(&writes, 3).await;

    let Some(Handler::External(check)) = app
        .registry
        .get(provider_registry::startup::job_kinds::VERIFY_AUDIT)
    else {
        panic!("the audit check runs outside the worker's write transaction");
    };
    let env = JobEnv {
        pool: app.state.pool.clone(),
        clock: app.state.clock.clone(),
        settings: app.state.settings.clone(),
    };
    let metrics = format!("{}/metrics", app.base);
    let mut readings = Vec::new();
    for attempt in 0..VERIFICATIONS {
        // Paced by the writers, as above.
        writes_beyond(&writes, writes.load(Ordering::Relaxed) + 1).await;
        let (env, info) = (
            env.clone(),
            JobInfo {
                id: attempt as i64,
                kind: provider_registry::startup::job_kinds::VERIFY_AUDIT.to_owned(),
                attempt: 1,
                now: app.state.clock.now(),
                settings: app.state.settings.clone(),
            },
        );
        tokio::task::spawn_blocking(move || check(&env, &info, &Value::Null))
            .await
            .unwrap()
            .unwrap();
        let text = app
            .client
            .get(&metrics)
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let gauge = text
            .lines()
            .find_map(|l| l.strip_prefix("audit_chain_ok "))
            .unwrap()
            .to_owned();
        readings.push(gauge);
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    let alarms = readings.iter().filter(|g| *g != "1").count();
    assert_eq!(
        alarms, 0,
        "false alarms of the periodic check: {readings:?}"
    );
}
