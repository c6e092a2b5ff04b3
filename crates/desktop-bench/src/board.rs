//! 3. The manager's board with 2,000 waiting conversations and 200 agents (600 more
//!    conversations assigned): how long its data takes to load through the app's client
//!    (target: under 300 ms), and how long a change (a priority raised elsewhere) takes
//!    to show on it: poke → pull → the board read again (target: under 100 ms).
//!    Baselines: an authenticated `GET /v1/me` (the request floor), and the bare poke
//!    on a raw event-stream connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use handoff_protocol::{ConversationId, Priority};
use inbox_core::{CoreError, Escalation, Inbox, InboxListener};
use serde_json::json;
use tokio::sync::Notify;

use crate::{pct, stack, text_body, verdict, MemorySecrets};

const LOAD_TARGET: Duration = Duration::from_millis(300);
const LIVE_TARGET: Duration = Duration::from_millis(100);
const TEAMS: usize = 10;
const CAPACITY: usize = 3;

#[derive(Default)]
struct Changes {
    connected: std::sync::atomic::AtomicBool,
    /// How many pulls the app has applied.
    pulls: std::sync::atomic::AtomicU64,
    wake: Notify,
}

impl InboxListener for Changes {
    fn changed(&self, _ids: Vec<ConversationId>) {
        self.pulls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_waiters();
    }
    fn connection(&self, connected: bool) {
        self.connected.store(connected, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_waiters();
    }
    fn escalated(&self, _e: Escalation) {}
    fn session_ended(&self, _error: &CoreError) {}
}

fn line(name: &str, samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let (p50, p99) = (pct(samples, 0.5), pct(samples, 0.99));
    println!("  {name:<52} p50 {p50:>9.2?}   p99 {p99:>9.2?}   ({} samples)", samples.len());
    (p50, p99)
}

pub async fn board(waiting: usize, agents: usize, rounds: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_sandbox, server) = stack(dir.path(), false).await?;
    let pool = &server.state.db.pool;
    let now = handoff_server::db::now_ms();
    let assigned = agents * CAPACITY;
    let total = waiting + assigned;
    eprintln!("seeding {TEAMS} teams, {agents} agents, {total} escalated conversations ...");
    let mut teams = Vec::new();
    for t in 0..TEAMS {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (workspace_id, name, created_at, strategy) VALUES (1, $1, $2, 'least_loaded') RETURNING id",
        )
        .bind(format!("Team {t}"))
        .bind(now)
        .fetch_one(pool)
        .await?;
        teams.push(id);
    }
    for a in 0..agents {
        // Everyone online with room for three while the queue fills; a fifth step away after.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO agents (workspace_id, email, name, role, password_hash, availability, capacity, last_seen_at, \
               last_active_at, created_at) VALUES (1, $1, $2, 'agent', 'bench: no login', 'online', $3, $4, $4, $4) RETURNING id",
        )
        .bind(format!("agent{a}@bench.test"))
        .bind(format!("Agent {a}"))
        .bind(CAPACITY as i64)
        .bind(now)
        .fetch_one(pool)
        .await?;
        sqlx::query("INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2)")
            .bind(teams[a % TEAMS])
            .bind(id)
            .execute(pool)
            .await?;
    }
    let secs = now / 1000;
    let bodies: Vec<(Vec<u8>, String)> = (0..total)
        .map(|i| text_body(&format!("4940{i:08}"), &format!("wamid.BOARD{i:08}"), "I need a person", secs))
        .collect();
    handoff_server::bench::drive(&format!("{}/webhooks/whatsapp", server.url()), &bodies, 32).await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM conversations ORDER BY id").fetch_all(pool).await?;
    anyhow::ensure!(ids.len() == total, "{} conversations seeded", ids.len());
    let http = reqwest::Client::new();
    let url = server.url();
    let priorities = ["low", "normal", "high", "urgent"];
    futures_util::future::try_join_all(ids.chunks(ids.len().div_ceil(8)).map(|chunk| {
        let (http, url, teams) = (http.clone(), url.clone(), teams.clone());
        async move {
            for id in chunk {
                let i = *id as usize;
                let r = http
                    .post(format!("{url}/v1/conversations/{id}/handoff"))
                    .bearer_auth(handoff_server::seed::DEMO_BOT_TOKEN)
                    .json(&json!({ "reason": "bench", "team_id": teams[i % TEAMS], "priority": priorities[i % 4] }))
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "handoff answered {}", r.status());
            }
            Ok::<_, anyhow::Error>(())
        }
    }))
    .await?;
    sqlx::query("UPDATE agents SET availability = 'away' WHERE email LIKE 'agent%@bench.test' AND id % 5 = 0")
        .execute(pool)
        .await?;
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM handoffs GROUP BY status ORDER BY status").fetch_all(pool).await?;
    eprintln!("handoffs by status: {counts:?}");

    // The admin's app, synced.
    let app_dir = tempfile::tempdir()?;
    let changes = Arc::new(Changes::default());
    let inbox = Inbox::open(app_dir.path(), Arc::new(MemorySecrets::default()), changes.clone()).await?;
    inbox.login(&url, "omar@demo.handoff.dev", handoff_server::seed::DEMO_PASSWORD.into()).await?;
    let started = Instant::now();
    while inbox.conversations().await?.len() < total {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "the app did not sync");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let board = inbox.board().await?;
    let waiting_now = board.conversations.iter().filter(|e| e.status == "waiting").count();
    anyhow::ensure!(board.agents.len() >= agents, "{} agents on the board", board.agents.len());
    let login: serde_json::Value = http
        .post(format!("{url}/v1/auth/login"))
        .json(&json!({ "email": "omar@demo.handoff.dev", "password": handoff_server::seed::DEMO_PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("a token")?.to_owned();
    let bytes = http.get(format!("{url}/v1/board")).bearer_auth(&token).send().await?.bytes().await?.len();

    // Load: the board through the app's client, and the authenticated floor.
    let mut me = Vec::new();
    let mut load = Vec::new();
    let mut raw = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let r = http.get(format!("{url}/v1/me")).bearer_auth(&token).send().await?;
        r.bytes().await?;
        me.push(t.elapsed());
        let t = Instant::now();
        inbox.board().await?;
        load.push(t.elapsed());
        let t = Instant::now();
        http.get(format!("{url}/v1/board")).bearer_auth(&token).send().await?.bytes().await?;
        raw.push(t.elapsed());
    }

    // Live: raise a waiting conversation's priority from another client; time the poke
    // on a raw event stream (the floor), and until the app's board shows it.
    let ws_url = format!("{}/v1/events", url.replace("http://", "ws://"));
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url)?;
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await?;
    socket.next().await; // hello
    let targets: Vec<ConversationId> = board
        .conversations
        .iter()
        .filter(|e| e.status == "waiting" && e.priority != Priority::Urgent)
        .map(|e| e.conversation_id)
        .take(rounds)
        .collect();
    let mut poke = Vec::new();
    let mut live = Vec::new();
    for id in targets {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let pulls = || changes.pulls.load(std::sync::atomic::Ordering::SeqCst);
        let mut checked = pulls();
        let t = Instant::now();
        let put = tokio::spawn(
            http.put(format!("{url}/v1/conversations/{id}/priority"))
                .bearer_auth(&token)
                .json(&json!({ "priority": "urgent" }))
                .send(),
        );
        anyhow::ensure!(socket.next().await.is_some(), "the event stream closed");
        poke.push(t.elapsed());
        loop {
            let notified = changes.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if pulls() == checked {
                tokio::time::timeout(Duration::from_secs(10), notified).await?;
                continue;
            }
            checked = pulls();
            let b = inbox.board().await?;
            if b.conversations.iter().any(|e| e.conversation_id == id && e.priority == Priority::Urgent) {
                live.push(t.elapsed());
                break;
            }
        }
        anyhow::ensure!(put.await??.status().is_success(), "priority change refused");
    }

    println!(
        "manager board: {waiting_now} waiting + {assigned} assigned conversations, {} agents, {TEAMS} teams; \
         the board is {:.0} KiB of JSON",
        board.agents.len(),
        bytes as f64 / 1024.0
    );
    line("baseline: authenticated GET /v1/me", &mut me);
    line("the board's bytes over HTTP (no parsing)", &mut raw);
    let (_, load_p99) = line("board data through the app's client", &mut load);
    line("baseline: a priority change -> its poke (raw stream)", &mut poke);
    let (_, live_p99) = line("a priority change -> shown on the app's board", &mut live);
    println!(
        "targets: board loads < {LOAD_TARGET:?} (p99): {}; a live change shows < {LIVE_TARGET:?} (p99): {}",
        verdict(load_p99 < LOAD_TARGET),
        verdict(live_p99 < LIVE_TARGET)
    );
    Ok(())
}
