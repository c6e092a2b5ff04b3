//! Exactly-once across crashes and disorder, on SQLite and PostgreSQL.
//!
//! - The real `handoff-server` binary is SIGKILLed while a stream of webhooks comes in
//!   and its send queue is busy, then restarted on the same database: every message is
//!   stored exactly once and every reply reaches WhatsApp exactly once.
//! - Status webhooks delivered three times each, shuffled, end where one ordered
//!   delivery ends; statuses that come before their message is known are applied later.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use handoff_protocol::*;
use handoff_sandbox::StatusMode;
use handoff_server::testkit::{eventually, fresh_database, TestStack};
use handoff_server::{on_both_backends, seed, Backend};
use handoff_whatsapp::payloads::{self, BusinessNumber};
use serde_json::json;
use sqlx::Row;

on_both_backends!(
    killed_mid_stream_nothing_lost_nothing_doubled,
    shuffled_duplicated_statuses_end_in_the_same_place,
    statuses_before_the_message_are_applied_later,
    meta_errors_are_retried_or_reported_by_code
);

const SECRET: &str = "crash-app-secret";
const TOKEN: &str = "crash-access-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn_server(port: u16, db_url: &str, data: &std::path::Path, graph: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_handoff-server"))
        .env("HANDOFF_LISTEN", format!("127.0.0.1:{port}"))
        .env("HANDOFF_DATA_DIR", data)
        .env("HANDOFF_DATABASE_URL", db_url)
        .env("HANDOFF_DEMO", "true")
        .env("HANDOFF_WA_APP_SECRET", SECRET)
        .env("HANDOFF_WA_ACCESS_TOKEN", TOKEN)
        .env("HANDOFF_GRAPH_API_BASE", graph)
        .env("HANDOFF_SEND_RECOVERY_GRACE_SECS", "3")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("the server binary starts")
}

async fn wait_healthy(port: u16) {
    eventually(30, "the server to answer", || async move {
        reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.ok().filter(|r| r.status() == 200).map(|_| ())
    })
    .await;
}

async fn killed_mid_stream_nothing_lost_nothing_doubled(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(backend, dir.path()).await;
    let port = free_port();
    let mut sb_cfg = handoff_sandbox::SandboxConfig::new(
        &format!("http://127.0.0.1:{port}/webhooks/whatsapp"),
        SECRET,
        TOKEN,
        seed::DEMO_PHONE_NUMBER_ID,
    );
    sb_cfg.status_delay = Duration::from_millis(20);
    let sandbox = handoff_sandbox::start(sb_cfg).await.unwrap();
    let mut server = spawn_server(port, &db_url, dir.path(), &sandbox.url());
    wait_healthy(port).await;

    // A stream of customer messages, each delivered like Meta does: again until a 200.
    const N: usize = 120;
    let number = BusinessNumber {
        waba_id: "1".into(),
        phone_number_id: seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: "15550100".into(),
    };
    let acked = Arc::new(AtomicUsize::new(0));
    let mut feeders = Vec::new();
    for i in 0..N {
        let (number, acked) = (number.clone(), acked.clone());
        let url = format!("http://127.0.0.1:{port}/webhooks/whatsapp");
        feeders.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i as u64 * 15)).await;
            let body = payloads::inbound_text(
                &number,
                &format!("4930{:04}", i % 12),
                "C",
                &format!("wamid.CRASH{i:05}"),
                1_700_000_000 + i as i64,
                "What are your opening hours?",
            );
            let bytes = serde_json::to_vec(&body).unwrap();
            let sig = handoff_whatsapp::sign(SECRET, &bytes);
            let client = reqwest::Client::new();
            for _ in 0..600 {
                let r = client.post(&url).header("x-hub-signature-256", &sig).body(bytes.clone()).send().await;
                if matches!(r, Ok(ref r) if r.status() == 200) {
                    acked.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("message {i} never accepted");
        }));
    }
    // Kill it hard in the middle of the stream, with replies in flight.
    eventually(30, "a third of the stream", || async { (acked.load(Ordering::SeqCst) >= N / 3).then_some(()) }).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let at_kill = acked.load(Ordering::SeqCst);
    assert!(at_kill < N, "killed before the stream ended");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut server = spawn_server(port, &db_url, dir.path(), &sandbox.url());
    wait_healthy(port).await;
    for f in feeders {
        f.await.unwrap();
    }

    // Every message once, every reply once: stored, answered, and sent to WhatsApp.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db_url).await.unwrap();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(sql).fetch_one(&pool).await.unwrap().try_get::<i64, _>(0).unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'").await, N as i64);
    assert_eq!(count("SELECT COUNT(DISTINCT wamid) FROM messages WHERE direction = 'inbound'").await, N as i64);
    eventually(60, "every reply to be confirmed by WhatsApp", || async {
        let done = count(
            "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status IN ('sent', 'delivered', 'read')",
        )
        .await;
        (done == N as i64).then_some(())
    })
    .await;
    assert_eq!(count("SELECT COUNT(*) FROM messages WHERE processed_at IS NULL").await, 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM messages WHERE direction = 'outbound'").await,
        N as i64,
        "one reply per message"
    );
    let sent = sandbox.sandbox.sent().await;
    let mut per_key: BTreeMap<String, usize> = BTreeMap::new();
    for s in &sent {
        *per_key.entry(s.body["biz_opaque_callback_data"].as_str().unwrap_or("none").to_owned()).or_default() += 1;
    }
    let doubled: Vec<_> = per_key.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "sent twice: {doubled:?}");
    assert_eq!(per_key.len(), N, "every reply reached WhatsApp once");
    let wamids: BTreeSet<String> = sqlx::query("SELECT wamid FROM messages WHERE direction = 'outbound'")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("wamid"))
        .collect();
    assert_eq!(wamids, sent.iter().map(|s| s.wamid.clone()).collect::<BTreeSet<_>>(), "each reply knows its wamid");
    server.kill().unwrap();
    server.wait().unwrap();
}

async fn agent_reply(stack: &TestStack, wa_id: &str) -> (Message, String) {
    let ana = stack.login("ana@demo.handoff.dev").await;
    let http = reqwest::Client::new();
    stack.set_online(ana.token.expose()).await;
    stack.sandbox.sandbox.customer_says(wa_id, "D", "a human please").await.unwrap();
    let conv: Conversation = eventually(10, "assignment", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", ana.token.expose()).await;
        l.into_iter().find(|c| c.state == ConversationState::Assigned)
    })
    .await;
    let m: Message = http
        .post(format!("{}/v1/conversations/{}/messages", stack.url(), conv.id))
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "s1", "text": "Hello from Ana"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (m, ana.token.expose().to_owned())
}

async fn status_of(stack: &TestStack, id: MessageId) -> (DeliveryStatus, Option<String>) {
    let r = sqlx::query("SELECT status, wamid FROM messages WHERE id = $1")
        .bind(id.0)
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap();
    (DeliveryStatus::parse(&r.get::<String, _>("status")).unwrap(), r.get("wamid"))
}

async fn shuffled_duplicated_statuses_end_in_the_same_place(backend: Backend) {
    let stack = TestStack::start_with(backend, |_| {}).await;
    // The sandbox delivers each status three times, newest first: read, read,
    // read, delivered, …, sent.
    let sb = &stack.sandbox.sandbox;
    sb.set_status_mode(StatusMode { copies: 3, reversed: true }).await;
    let (m, _) = agent_reply(&stack, "4991").await;
    let (_, wamid) = eventually(10, "the send", || async {
        let (s, w) = status_of(&stack, m.id).await;
        w.map(|w| (s, w))
    })
    .await;
    eventually(15, "nine status webhooks", || async { (sb.statuses_delivered(&wamid).await == 9).then_some(()) }).await;
    assert_eq!(status_of(&stack, m.id).await.0, DeliveryStatus::Read, "the late `sent` and `delivered` change nothing");
    sb.set_status_mode(StatusMode::default()).await;
    let n = BusinessNumber {
        waba_id: "1".into(),
        phone_number_id: seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: "1".into(),
    };
    // The sandbox also sends sent/delivered/read; add every status three times, shuffled.
    let order = ["read", "sent", "delivered", "read", "delivered", "sent", "sent", "read", "delivered"];
    for st in order {
        let body = payloads::status(&n, &wamid, st, "4991", 1_700_000_100);
        assert_eq!(stack.sandbox.sandbox.deliver_webhook(&body).await.unwrap(), 200);
    }
    eventually(10, "read", || async { (status_of(&stack, m.id).await.0 == DeliveryStatus::Read).then_some(()) }).await;
    // A late "sent" or a duplicate changes nothing; "failed" is terminal and wins.
    stack.sandbox.sandbox.deliver_webhook(&payloads::status(&n, &wamid, "sent", "4991", 1_700_000_200)).await.unwrap();
    assert_eq!(status_of(&stack, m.id).await.0, DeliveryStatus::Read);
    let changes = sqlx::query("SELECT COUNT(*) FROM changes WHERE entity = 'message' AND entity_id = $1")
        .bind(m.id.0)
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
    stack
        .sandbox
        .sandbox
        .deliver_webhook(&payloads::status(&n, &wamid, "delivered", "4991", 1_700_000_300))
        .await
        .unwrap();
    let after = sqlx::query("SELECT COUNT(*) FROM changes WHERE entity = 'message' AND entity_id = $1")
        .bind(m.id.0)
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
    assert_eq!(after, changes, "a regression records no change");
}

async fn statuses_before_the_message_are_applied_later(backend: Backend) {
    // The Graph API is unreachable: replies stay queued, not yet known to WhatsApp.
    let stack = TestStack::start_with(backend, |c| c.graph_api_base = "http://127.0.0.1:9".into()).await;
    let (m, _) = agent_reply(&stack, "4992").await;
    let n = BusinessNumber {
        waba_id: "1".into(),
        phone_number_id: seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: "1".into(),
    };
    // A status naming our callback key arrives first: WhatsApp has it, so it is not sent again.
    let body = payloads::status_with_callback(
        &n,
        "wamid.EARLY1",
        "delivered",
        "4992",
        1,
        Some(&handoff_server::sender::callback_key(m.id.0)),
    );
    assert_eq!(stack.sandbox.sandbox.deliver_webhook(&body).await.unwrap(), 200);
    assert_eq!(status_of(&stack, m.id).await, (DeliveryStatus::Delivered, Some("wamid.EARLY1".into())));
    // A status for a wamid nobody knows yet is kept...
    let body = payloads::status(&n, "wamid.LATER1", "read", "4992", 2);
    assert_eq!(stack.sandbox.sandbox.deliver_webhook(&body).await.unwrap(), 200);
    let kept = sqlx::query("SELECT COUNT(*) FROM pending_statuses WHERE wamid = 'wamid.LATER1'")
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
    assert_eq!(kept, 1);
    // ...and applied when a message gets that wamid.
    let mut conn = stack.server.state.db.pool.acquire().await.unwrap();
    let other: i64 =
        sqlx::query("SELECT id FROM messages WHERE direction = 'outbound' AND id <> $1 ORDER BY id LIMIT 1")
            .bind(m.id.0)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get("id");
    sqlx::query("UPDATE messages SET wamid = 'wamid.LATER1', status = 'sent' WHERE id = $1")
        .bind(other)
        .execute(&mut *conn)
        .await
        .unwrap();
    handoff_server::engine::apply_pending_statuses(&mut conn, other, "wamid.LATER1").await.unwrap();
    drop(conn); // SQLite runs on one connection
    assert_eq!(status_of(&stack, MessageId(other)).await.0, DeliveryStatus::Read);
}

async fn meta_errors_are_retried_or_reported_by_code(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let (first, token) = agent_reply(&stack, "4993").await;
    // Let that reply (and the transition message) go out first.
    eventually(10, "the first reply sent", || async {
        let (s, _) = status_of(&stack, first.id).await;
        (s.rank() >= DeliveryStatus::Sent.rank()).then_some(())
    })
    .await;
    let http = reqwest::Client::new();
    let reply = |client_id: &'static str, text: &'static str| {
        let (url, token, http) = (
            format!("{}/v1/conversations/{}/messages", stack.url(), first.conversation_id),
            token.clone(),
            http.clone(),
        );
        async move {
            let m: Message = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({"client_id": client_id, "text": text}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            m
        }
    };
    let refused_for =
        |text: &'static str| async move { sb.refused().await.iter().filter(|b| b["text"]["body"] == text).count() };

    // Throughput limit twice: backed off and retried, then sent once.
    sb.fail_next_sends(130429, 2).await;
    let m = reply("e1", "Retry me").await;
    eventually(15, "sent after two refusals", || async {
        let (s, w) = status_of(&stack, m.id).await;
        (s.rank() >= DeliveryStatus::Sent.rank() && w.is_some()).then_some(())
    })
    .await;
    assert_eq!(refused_for("Retry me").await, 2);
    assert_eq!(sb.sent().await.iter().filter(|s| s.body["text"]["body"] == "Retry me").count(), 1);

    // Window closed at Meta, or a dead token: no retry, the agent sees Meta's reason.
    for (code, client_id, text) in [(131047, "e2", "Too late"), (190, "e3", "Bad token")] {
        sb.fail_next_sends(code, 1).await;
        let m = reply(client_id, text).await;
        let error = eventually(10, "the failure", || async {
            let r = sqlx::query("SELECT status, error FROM messages WHERE id = $1")
                .bind(m.id.0)
                .fetch_one(&stack.server.state.db.pool)
                .await
                .unwrap();
            (r.get::<String, _>("status") == "failed").then(|| r.get::<Option<String>, _>("error").unwrap())
        })
        .await;
        assert!(error.starts_with(&code.to_string()), "{error}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(refused_for(text).await, 1, "{code} is not retried");
        assert!(sb.sent().await.iter().all(|s| s.body["text"]["body"] != text));
    }
}
