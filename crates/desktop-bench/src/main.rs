//! `desktop-bench`: Handoff Inbox figures, each beside a bare baseline measured in the
//! same run (BENCHMARKS.md says how to read them).
//!
//! 1. Cold sync: a manager's app pulls 5,000 escalated conversations and their 100,000
//!    messages from a real server into an empty local database (target: under 2 s).
//!    Baselines: the same pages fetched without storing them, and the same rows
//!    inserted into a bare SQLite table.
//! 2. Escalation → notification: a customer asks for a person; time from the webhook
//!    POST to the app's notification call, while the server ingests 1,000 other
//!    messages per second with the bot answering them (target: p99 under 50 ms).
//!    Baseline: the same probes with no other traffic.
//! 3. The manager's board (see `board.rs`).

mod board;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use handoff_protocol::{ConversationId, SecretString, SyncResponse};
use handoff_server::bench::{drive, drive_steady};
use handoff_server::Config;
use handoff_whatsapp::payloads::{self, BusinessNumber};
use inbox_core::{ApiClient, CoreError, CoreResult, Escalation, Inbox, InboxListener, SecretStore};
use serde_json::json;
use tokio::sync::Notify;

const SECRET: &str = "bench-app-secret";
const COLD_SYNC_TARGET: Duration = Duration::from_secs(2);
const NOTIFY_P99_TARGET: Duration = Duration::from_millis(50);

/// Tokens in memory (the bench needs no OS keyring).
#[derive(Default)]
pub(crate) struct MemorySecrets(Mutex<HashMap<String, SecretString>>);

impl SecretStore for MemorySecrets {
    fn get(&self, account: &str) -> CoreResult<Option<SecretString>> {
        Ok(self.0.lock().expect("not poisoned").get(account).cloned())
    }
    fn set(&self, account: &str, secret: &SecretString) -> CoreResult<()> {
        self.0.lock().expect("not poisoned").insert(account.to_owned(), secret.clone());
        Ok(())
    }
    fn delete(&self, account: &str) -> CoreResult<()> {
        self.0.lock().expect("not poisoned").remove(account);
        Ok(())
    }
}

/// Records when each customer's escalation reached the app's notification call.
#[derive(Default)]
struct Stopwatch {
    connected: std::sync::atomic::AtomicBool,
    notified: Mutex<HashMap<String, Instant>>,
    wake: Notify,
}

impl InboxListener for Stopwatch {
    fn changed(&self, _ids: Vec<ConversationId>) {}
    fn connection(&self, connected: bool) {
        self.connected.store(connected, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_waiters();
    }
    fn escalated(&self, e: Escalation) {
        if let Some(wa) = e.conversation.contact.wa_id.clone() {
            self.notified.lock().expect("not poisoned").entry(wa).or_insert_with(Instant::now);
        }
        self.wake.notify_waiters();
    }
    fn session_ended(&self, _error: &CoreError) {}
}

fn number() -> BusinessNumber {
    BusinessNumber {
        waba_id: handoff_server::seed::DEMO_WABA_ID.into(),
        phone_number_id: handoff_server::seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: handoff_server::seed::DEMO_DISPLAY_NUMBER.into(),
    }
}

/// A signed webhook body: `wa_id` writes `text` (message id `wamid`).
pub(crate) fn text_body(wa_id: &str, wamid: &str, text: &str, now: i64) -> (Vec<u8>, String) {
    let contact = json!({ "profile": { "name": format!("Customer {wa_id}") }, "wa_id": wa_id });
    let msg =
        json!({ "from": wa_id, "id": wamid, "timestamp": now.to_string(), "type": "text", "text": { "body": text } });
    let bytes = serde_json::to_vec(&payloads::inbound_message(&number(), contact, msg)).expect("serializes");
    let sig = handoff_whatsapp::sign(SECRET, &bytes);
    (bytes, sig)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

pub(crate) async fn stack(
    dir: &std::path::Path,
    workers: bool,
) -> anyhow::Result<(handoff_sandbox::RunningSandbox, handoff_server::Server)> {
    let mut sandbox_cfg = handoff_sandbox::SandboxConfig::new(
        "http://127.0.0.1:9/unused",
        SECRET,
        "bench-token",
        handoff_server::seed::DEMO_PHONE_NUMBER_ID,
    );
    sandbox_cfg.status_webhooks = false;
    let sandbox = handoff_sandbox::start(sandbox_cfg).await?;
    let mut config = Config::for_tests(&handoff_server::db::sqlite_url(dir), &sandbox.url());
    config.wa_app_secret = SECRET.into();
    config.wa_access_token = "bench-token".into();
    config.media_dir = dir.join("media");
    config.background_workers = workers;
    config.offline_grace = Duration::from_secs(24 * 3600);
    let server = handoff_server::start(config).await?;
    Ok((sandbox, server))
}

pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

/// A server with `conversations` escalated conversations of `per_conversation`
/// customer messages each (the bot off, so nothing else is written).
async fn seeded(
    dir: &std::path::Path,
    conversations: usize,
    per_conversation: usize,
) -> anyhow::Result<(handoff_sandbox::RunningSandbox, handoff_server::Server)> {
    let (sandbox, server) = stack(dir, false).await?;
    let now = now_secs();
    eprintln!("seeding {conversations} conversations x {per_conversation} messages ...");
    let bodies: Vec<(Vec<u8>, String)> = (0..conversations * per_conversation)
        .map(|i| {
            let (c, m) = (i % conversations, i / conversations);
            text_body(
                &format!("4930{c:08}"),
                &format!("wamid.COLD{i:012}"),
                &format!("Message {m} about order {c}"),
                now,
            )
        })
        .collect();
    drive(&format!("{}/webhooks/whatsapp", server.url()), &bodies, 32).await?;
    drop(bodies);
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM conversations ORDER BY id").fetch_all(&server.state.db.pool).await?;
    anyhow::ensure!(ids.len() == conversations, "{} conversations seeded", ids.len());
    let http = reqwest::Client::new();
    let url = server.url();
    futures_util::future::try_join_all(ids.chunks(ids.len().div_ceil(16)).map(|chunk| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            for id in chunk {
                let r = http
                    .post(format!("{url}/v1/conversations/{id}/handoff"))
                    .bearer_auth(handoff_server::seed::DEMO_BOT_TOKEN)
                    .json(&json!({ "reason": "bench", "summary": "Cold sync benchmark" }))
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "handoff answered {}", r.status());
            }
            Ok::<_, anyhow::Error>(())
        }
    }))
    .await?;
    Ok((sandbox, server))
}

async fn cold_sync(conversations: usize, per_conversation: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_sandbox, server) = seeded(dir.path(), conversations, per_conversation).await?;
    let url = server.url();

    // Baseline 1: every sync page over HTTP, nothing stored.
    let api = ApiClient::new(&url, None)?;
    let login = api.login("maya@demo.handoff.dev", "handoff-demo".into()).await?;
    let api = ApiClient::new(&url, Some(login.token.clone()))?;
    let started = Instant::now();
    let (mut cursor, mut snapshot, mut pages, mut rows) = (0, Some(0), 0, 0usize);
    let mut all: Vec<SyncResponse> = Vec::new();
    while let Some(after) = snapshot {
        let page = api.sync(cursor, Some(after)).await?;
        cursor = page.cursor;
        snapshot = page.snapshot_after;
        pages += 1;
        rows += page.messages.len();
        all.push(page);
    }
    let fetch_only = started.elapsed();

    // Baseline 2: the same messages into a bare SQLite table, one transaction.
    let bare_dir = tempfile::tempdir()?;
    let bare =
        sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", bare_dir.path().join("bare.db").display())).await?;
    sqlx::query("CREATE TABLE m (id INTEGER PRIMARY KEY, conversation_id INTEGER, data TEXT)").execute(&bare).await?;
    let started = Instant::now();
    let mut tx = bare.begin().await?;
    for page in &all {
        for m in &page.messages {
            sqlx::query("INSERT OR REPLACE INTO m (id, conversation_id, data) VALUES (?, ?, ?)")
                .bind(m.id.0)
                .bind(m.conversation_id.0)
                .bind(serde_json::to_string(m)?)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    let bare_insert = started.elapsed();
    // The app's store alone: the same pages applied to an empty local database.
    let store_dir = tempfile::tempdir()?;
    let store = inbox_core::LocalStore::open(&store_dir.path().join("inbox.db")).await?;
    let started = Instant::now();
    for page in &all {
        store.apply(page).await?;
    }
    let store_only = started.elapsed();
    drop(all);

    // The app: log in and pull everything into an empty local database.
    let app_dir = tempfile::tempdir()?;
    let listener = Arc::new(Stopwatch::default());
    let inbox = Inbox::open(app_dir.path(), Arc::new(MemorySecrets::default()), listener).await?;
    let started = Instant::now();
    inbox.login(&url, "maya@demo.handoff.dev", "handoff-demo".into()).await?;
    inbox.pull().await?;
    let cold = started.elapsed();
    // The search index of the bootstrap, built right after it in the background.
    inbox.store().index_pending().await?;
    let indexed = started.elapsed();
    let hits = inbox.store().search("message 7 order 4321", 5).await?;
    anyhow::ensure!(hits.len() == 1, "search after the bootstrap: {hits:?}");
    let (local_convs, local_msgs) = inbox.store().counts().await?;
    anyhow::ensure!(local_convs as usize == conversations, "{local_convs} conversations synced");
    anyhow::ensure!(local_msgs as usize >= conversations * per_conversation, "{local_msgs} messages synced");
    let db_size = std::fs::metadata(app_dir.path().join("inbox.db")).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(app_dir.path().join("inbox.db-wal")).map(|m| m.len()).unwrap_or(0);
    inbox.close();
    println!("cold sync of {local_convs} conversations / {local_msgs} messages ({pages} pages, {rows} message rows):");
    println!(
        "  app, login to synced         {:>8.0} ms   target < {} ms: {}",
        cold.as_secs_f64() * 1e3,
        COLD_SYNC_TARGET.as_millis(),
        verdict(cold < COLD_SYNC_TARGET)
    );
    println!(
        "  ... and its search index     {:>8.0} ms (built after the rows, in the background)",
        indexed.as_secs_f64() * 1e3
    );
    println!("  baseline: fetch pages only   {:>8.0} ms", fetch_only.as_secs_f64() * 1e3);
    println!("  baseline: bare SQLite insert {:>8.0} ms", bare_insert.as_secs_f64() * 1e3);
    println!(
        "  the app's store alone        {:>8.0} ms (rows and search index together)",
        store_only.as_secs_f64() * 1e3
    );
    println!("  local database               {:>8.1} MiB", db_size as f64 / 1048576.0);
    server.abort();
    Ok(())
}

/// Probes: customers asking for a person one after another; the latency of each from
/// the webhook POST to the app's notification call.
async fn probes(url: &str, listener: &Stopwatch, first: usize, n: usize) -> anyhow::Result<Vec<Duration>> {
    let http = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(n);
    for i in first..first + n {
        let wa = format!("4931{i:08}");
        let (body, sig) = text_body(&wa, &format!("wamid.PROBE{i:012}"), "I want to talk to a human", now_secs());
        let sent = Instant::now();
        let r = http
            .post(format!("{url}/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "webhook answered {}", r.status());
        let deadline = Instant::now() + Duration::from_secs(10);
        let at = loop {
            let wake = listener.wake.notified();
            if let Some(at) = listener.notified.lock().expect("not poisoned").get(&wa).copied() {
                break at;
            }
            anyhow::ensure!(Instant::now() < deadline, "no notification for probe {i}");
            let _ = tokio::time::timeout(Duration::from_millis(50), wake).await;
        };
        latencies.push(at.saturating_duration_since(sent));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    Ok(latencies)
}

pub(crate) fn pct(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

async fn escalation_latency(probes_n: usize, load_rate: f64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_sandbox, server) = stack(dir.path(), true).await?;
    let url = server.url();
    let http = reqwest::Client::new();
    // Ana takes everything: no capacity limit for the bench.
    let omar = http
        .post(format!("{url}/v1/auth/login"))
        .json(&json!({ "email": "omar@demo.handoff.dev", "password": "handoff-demo" }))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    let omar = omar["token"].as_str().context("admin login")?.to_owned();
    let agents: serde_json::Value =
        http.get(format!("{url}/v1/agents")).bearer_auth(&omar).send().await?.json().await?;
    let ana = agents
        .as_array()
        .and_then(|a| a.iter().find(|x| x["email"] == "ana@demo.handoff.dev"))
        .and_then(|a| a["id"].as_i64())
        .context("ana in the demo workspace")?;
    let r = http
        .patch(format!("{url}/v1/agents/{ana}"))
        .bearer_auth(&omar)
        .json(&json!({ "capacity": 1000 }))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "capacity: {}", r.status());

    let app_dir = tempfile::tempdir()?;
    let listener = Arc::new(Stopwatch::default());
    let inbox = Inbox::open(app_dir.path(), Arc::new(MemorySecrets::default()), listener.clone()).await?;
    inbox.login(&url, "ana@demo.handoff.dev", "handoff-demo".into()).await?;
    while !listener.connected.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = tokio::time::timeout(Duration::from_millis(100), listener.wake.notified()).await;
    }
    inbox.pull().await?;

    let quiet = probes(&url, &listener, 0, probes_n).await?;

    // The same probes while 1,000 other messages a second arrive (the bot answers each).
    let load_secs = (probes_n as f64 * 0.1).max(8.0);
    let load: Vec<(Vec<u8>, String)> = (0..(load_rate * load_secs * 1.5) as usize)
        .map(|i| {
            text_body(
                &format!("4932{:08}", i % 300),
                &format!("wamid.LOAD{i:012}"),
                "What are your opening hours?",
                now_secs(),
            )
        })
        .collect();
    let load_url = format!("{url}/webhooks/whatsapp");
    let background = tokio::spawn(async move { drive_steady(&load_url, &load, load_rate).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded = probes(&url, &listener, probes_n, probes_n).await?;
    if std::env::var_os("BENCH_EXPLAIN").is_some() {
        // Where the probes spent their time: stored → handed off (server); the rest is
        // the poke, the app's pull and its notification call.
        let mut waits = Vec::new();
        for i in probes_n..probes_n * 2 {
            let wa = format!("4931{i:08}");
            let row: Option<(i64, i64)> = sqlx::query_as(
                "SELECT m.created_at, h.requested_at FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 JOIN contacts k ON k.id = c.contact_id JOIN handoffs h ON h.conversation_id = c.id \
                 WHERE k.wa_id = $1 AND m.direction = 'inbound' ORDER BY m.id LIMIT 1",
            )
            .bind(&wa)
            .fetch_optional(&server.state.db.pool)
            .await?;
            if let Some((stored, handed)) = row {
                waits.push(handed - stored);
            }
        }
        waits.sort_unstable();
        if let (Some(max), false) = (waits.last(), waits.is_empty()) {
            let at = |q: f64| waits[((waits.len() - 1) as f64 * q).round() as usize];
            eprintln!("stored -> handed off under load: p50 {} ms, p99 {} ms, max {max} ms", at(0.5), at(0.99));
        }
    }
    // How far the bot lags behind at the end of the probes: inbound messages not yet
    // handled by automation.
    let backlog: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'inbound' AND processed_at IS NULL")
            .fetch_one(&server.state.db.pool)
            .await?;
    let load_figures = background.await??;
    // The bot's answers to the load: how long after its last message they are all done.
    let load_ended = Instant::now();
    let unprocessed = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM messages WHERE direction = 'inbound' AND processed_at IS NULL",
        )
        .fetch_one(&server.state.db.pool)
        .await
    };
    let at_end = unprocessed().await?;
    while unprocessed().await? > 0 && load_ended.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = load_ended.elapsed();
    inbox.close();
    server.abort();

    println!("escalation (webhook in) -> notification, {probes_n} probes each:");
    println!(
        "  under {:.0} msg/s ingest       p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms   target p99 < {} ms: {}",
        load_figures.rate,
        pct(&loaded, 0.5).as_secs_f64() * 1e3,
        pct(&loaded, 0.99).as_secs_f64() * 1e3,
        loaded.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        NOTIFY_P99_TARGET.as_millis(),
        verdict(pct(&loaded, 0.99) < NOTIFY_P99_TARGET)
    );
    println!(
        "  baseline: no other traffic    p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
        pct(&quiet, 0.5).as_secs_f64() * 1e3,
        pct(&quiet, 0.99).as_secs_f64() * 1e3,
        quiet.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "  background webhooks: p50 {:.1} ms, p99 {:.1} ms; messages waiting for the bot when the probes ended: \
         {backlog}, when the load ended: {at_end} (all answered {:.1} s later)",
        load_figures.p50.as_secs_f64() * 1e3,
        load_figures.p99.as_secs_f64() * 1e3,
        drained.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let arg = |name: &str, default: usize| -> usize {
        let args: Vec<String> = std::env::args().collect();
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    if std::env::args().nth(1).as_deref() == Some("serve-seeded") {
        // For the memory benchmark (scripts/bench-desktop-memory.py): a seeded server
        // that runs until killed.
        let dir = tempfile::tempdir()?;
        let (_sandbox, server) =
            seeded(dir.path(), arg("--conversations", 5000), arg("--messages-per-conversation", 20)).await?;
        println!("ready {}", server.url());
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    if only.as_deref().is_none_or(|o| o == "cold-sync") {
        cold_sync(arg("--conversations", 5000), arg("--messages-per-conversation", 20)).await?;
    }
    if only.as_deref().is_none_or(|o| o == "notify") {
        escalation_latency(arg("--probes", 100), arg("--rate", 1000) as f64).await?;
    }
    if only.as_deref().is_none_or(|o| o == "board") {
        board::board(arg("--waiting", 2000), arg("--agents", 200), arg("--rounds", 30)).await?;
    }
    Ok(())
}
