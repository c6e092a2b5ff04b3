//! `handoff-server bench`: signed webhook messages per second into SQLite, against a
//! bare axum handler measured in the same run as the baseline.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use futures_util::StreamExt;
use handoff_whatsapp::payloads::{self, BusinessNumber};
use handoff_whatsapp::sign;
use sqlx::Row;

use crate::Config;

pub struct Figures {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Posts every body once, `concurrency` at a time; all must answer 200.
async fn drive(url: &str, bodies: &[(Vec<u8>, String)], concurrency: usize) -> anyhow::Result<Figures> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures_util::stream::iter(bodies.iter())
        .map(|(body, sig)| {
            let client = client.clone();
            async move {
                let t = Instant::now();
                let resp = client
                    .post(url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body.clone())
                    .send()
                    .await?;
                anyhow::ensure!(resp.status() == StatusCode::OK, "webhook answered {}", resp.status());
                Ok::<_, anyhow::Error>(t.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let elapsed = started.elapsed();
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    Ok(Figures { rate: bodies.len() as f64 / elapsed.as_secs_f64(), p50: pick(0.5), p99: pick(0.99) })
}

pub async fn run(messages: usize, concurrency: usize) -> anyhow::Result<()> {
    let secret = "bench-app-secret";
    let number = BusinessNumber {
        waba_id: "200000000000001".into(),
        phone_number_id: crate::seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: crate::seed::DEMO_DISPLAY_NUMBER.into(),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let bodies: Vec<(Vec<u8>, String)> = (0..messages)
        .map(|i| {
            let wa_id = format!("4917{:08}", i % 200);
            let body = payloads::inbound_text(
                &number,
                &wa_id,
                "Bench Customer",
                &format!("wamid.BENCH{i:012}"),
                now,
                "What are your opening hours?",
            );
            let bytes = serde_json::to_vec(&body).expect("serializes");
            let sig = sign(secret, &bytes);
            (bytes, sig)
        })
        .collect();

    // Baseline: a bare axum handler that reads the body and answers 200.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let bare = axum::Router::new().route(
        "/",
        post(|b: Bytes| async move {
            if b.is_empty() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            }
        }),
    );
    let bare_task = tokio::spawn(async move { axum::serve(listener, bare).await });
    let baseline = drive(&format!("http://{addr}/"), &bodies, concurrency).await?;
    bare_task.abort();

    // Handoff: the real server on a fresh SQLite file, bot and send workers running,
    // replies going to an in-process sandbox.
    let dir = tempfile::tempdir()?;
    let sandbox_cfg = handoff_sandbox::SandboxConfig::new(
        "http://127.0.0.1:9/unused",
        secret,
        "bench-token",
        crate::seed::DEMO_PHONE_NUMBER_ID,
    );
    let mut sandbox_cfg = sandbox_cfg;
    sandbox_cfg.status_webhooks = false;
    let sandbox = handoff_sandbox::start(sandbox_cfg).await?;
    let mut config = Config::for_tests(&crate::db::sqlite_url(dir.path()), &sandbox.url());
    config.wa_app_secret = secret.into();
    config.wa_access_token = "bench-token".into();
    let server = crate::start(config).await?;
    let handoff = drive(&format!("{}/webhooks/whatsapp", server.url()), &bodies, concurrency).await?;
    let stored: i64 = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE direction = 'inbound'")
        .fetch_one(&server.state.db.pool)
        .await?
        .try_get("n")?;
    anyhow::ensure!(stored == messages as i64, "stored {stored} of {messages} messages");

    println!("webhook ingest bench: {messages} signed text messages, {concurrency} concurrent connections, loopback");
    println!(
        "  baseline (bare axum handler):  {:>9.0} msg/s   p50 {:>7.2?}   p99 {:>7.2?}",
        baseline.rate, baseline.p50, baseline.p99
    );
    println!(
        "  handoff  (verify+store SQLite): {:>9.0} msg/s   p50 {:>7.2?}   p99 {:>7.2?}",
        handoff.rate, handoff.p50, handoff.p99
    );
    println!(
        "  ratio handoff/baseline: {:.3}  (every message stored exactly once: {stored})",
        handoff.rate / baseline.rate
    );
    Ok(())
}
