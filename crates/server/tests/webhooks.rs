//! Project webhooks over real HTTP, on SQLite and PostgreSQL: Standard Webhooks
//! signatures (checked here and by the independent `standardwebhooks` Python package),
//! order per conversation, retries, dead letters, replay, secrets sealed at rest.

use std::time::Duration;

use handoff_protocol::*;
use handoff_server::testkit::{eventually, HookReceiver as Receiver, Received, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(
    events_are_signed_ordered_and_complete,
    failing_receivers_are_retried_dead_lettered_and_replayed,
    subscriptions_are_validated
);

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

const BOT: &str = handoff_server::seed::DEMO_BOT_TOKEN;

async fn subscribe(stack: &TestStack, url: &str, events: Value) -> Value {
    let r = http()
        .post(format!("{}/v1/webhooks", stack.url()))
        .bearer_auth(BOT)
        .json(&json!({"url": url, "events": events, "description": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// Checks signatures with the independent Python implementation of Standard Webhooks.
fn verify_with_python(secret: &str, received: &[Received]) {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-venv/bin/python");
    assert!(python.exists(), "{} missing: run `make test` (scripts/install-deps.sh creates it)", python.display());
    let cases: Vec<Value> = received
        .iter()
        .map(|r| {
            json!({"body": r.body, "headers": {
        "webhook-id": r.header("webhook-id"), "webhook-timestamp": r.header("webhook-timestamp"),
        "webhook-signature": r.header("webhook-signature")}})
        })
        .collect();
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
data = json.load(sys.stdin)
wh = Webhook(data["secret"])
for c in data["cases"]:
    wh.verify(c["body"], c["headers"])
bad = dict(data["cases"][0]["headers"]); bad["webhook-id"] = "msg_forged"
try:
    wh.verify(data["cases"][0]["body"], bad); sys.exit("a forged id verified")
except Exception:
    pass
print("verified", len(data["cases"]))
"#;
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(json!({"secret": secret, "cases": cases}).to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "standardwebhooks refused: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("verified {}", received.len()));
}

async fn events_are_signed_ordered_and_complete(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let rx = Receiver::start().await;
    let sub = subscribe(&stack, &rx.url, json!(["*"])).await;
    let secret = sub["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    // The secret is sealed at rest, and not shown again.
    let stored: String = sqlx::query("SELECT secret FROM webhook_subscriptions")
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .get("secret");
    assert!(!stored.contains(&secret[6..]));
    let list: Value = stack.get_json("/v1/webhooks", BOT).await;
    assert!(list[0].get("secret").is_none());

    let ana = stack.login("ana@demo.handoff.dev").await;
    stack.set_online(ana.token.expose()).await;
    stack.sandbox.sandbox.customer_says("4931", "Nora", "I want to talk to a human").await.unwrap();
    let conv_id = eventually(10, "the assignment event", || async {
        rx.all()
            .iter()
            .find(|r| r.json()["type"] == "conversation.assigned")
            .map(|r| r.json()["data"]["conversation_id"].clone())
    })
    .await;
    // A manager moves it to Ben and back to Ana: reassignments are events too.
    let maya = stack.login("maya@demo.handoff.dev").await;
    let ben = stack.login("ben@demo.handoff.dev").await;
    for (who, expect_prev) in [(ben.agent.id, ana.agent.id), (ana.agent.id, ben.agent.id)] {
        let r = http()
            .post(format!("{}/v1/conversations/{}/assign", stack.url(), conv_id))
            .bearer_auth(maya.token.expose())
            .json(&json!({"agent_id": who}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Conversation>().await.unwrap().assignee_id, Some(who));
        let ev = eventually(10, "the reassignment event", || async {
            rx.all()
                .into_iter()
                .map(|r| r.json())
                .find(|e| e["type"] == "conversation.reassigned" && e["data"]["agent"]["id"] == json!(who))
        })
        .await;
        assert_eq!(ev["data"]["previous_agent"]["id"], json!(expect_prev));
        assert_eq!(ev["data"]["assigned_by"]["name"], "Maya Lindqvist");
    }
    let r = http()
        .post(format!("{}/v1/conversations/{}/assign", stack.url(), conv_id))
        .bearer_auth(ana.token.expose())
        .json(&json!({"agent_id": ana.agent.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::Forbidden, "agents do not assign");
    let url = format!("{}/v1/conversations/{}/messages", stack.url(), conv_id);
    let r = http()
        .post(&url)
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "w1", "text": "Hi Nora"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    eventually(10, "the reply to be read", || async {
        rx.all()
            .iter()
            .any(|r| r.json()["type"] == "message.status" && r.json()["data"]["status"] == "read")
            .then_some(())
    })
    .await;
    let r = http()
        .post(format!("{}/v1/conversations/{}/resolve", stack.url(), conv_id))
        .bearer_auth(ana.token.expose())
        .json(&json!({"note": "Sorted out the delivery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let back = eventually(10, "the hand-back event", || async {
        rx.all().into_iter().find(|r| r.json()["type"] == "conversation.returned_to_automation")
    })
    .await;
    let data = &back.json()["data"];
    assert_eq!(data["resolution_note"], "Sorted out the delivery");
    let transcript: Vec<&str> =
        data["transcript"].as_array().unwrap().iter().map(|m| m["author"].as_str().unwrap()).collect();
    assert_eq!(
        transcript,
        vec!["bot", "agent"],
        "what happened since the handoff: transition message, the agent's reply"
    );

    // Order: the events of this conversation arrived in the order they were written.
    let types = rx.types();
    let pos = |t: &str| types.iter().position(|x| x == t).unwrap_or_else(|| panic!("{t} missing in {types:?}"));
    assert!(pos("message.created") < pos("workflow.execution.handoff"));
    assert!(pos("workflow.execution.handoff") < pos("conversation.queued"));
    assert!(pos("conversation.queued") < pos("conversation.assigned"));
    assert!(pos("conversation.assigned") < pos("conversation.first_response"));
    assert!(pos("conversation.reassigned") < pos("conversation.first_response"));
    assert!(pos("conversation.first_response") < pos("conversation.resolved"));
    assert!(pos("conversation.resolved") < pos("conversation.returned_to_automation"));
    let ids: Vec<i64> = {
        let rows = sqlx::query("SELECT event_id FROM webhook_outbox ORDER BY id")
            .fetch_all(&stack.server.state.db.pool)
            .await
            .unwrap();
        let order: Vec<String> = rows.iter().map(|r| r.get("event_id")).collect();
        rx.all().iter().map(|r| order.iter().position(|e| e == r.header("webhook-id")).unwrap() as i64).collect()
    };
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "delivered in outbox order: {ids:?}");
    let handoff = rx.all().into_iter().find(|r| r.json()["type"] == "workflow.execution.handoff").unwrap().json();
    assert_eq!(handoff["data"]["handoff"]["trigger"], "customer_request");
    assert!(handoff["timestamp"].as_str().unwrap().ends_with('Z'));

    // `HANDOFF_CAPTURE_WEBHOOKS=path` saves one example of each event for docs/webhooks.md.
    if let Ok(path) = std::env::var("HANDOFF_CAPTURE_WEBHOOKS") {
        let mut seen = std::collections::BTreeMap::new();
        for r in rx.all() {
            let v = r.json();
            seen.entry(v["type"].as_str().unwrap().to_owned()).or_insert(v);
        }
        std::fs::write(path, serde_json::to_string_pretty(&seen).unwrap()).unwrap();
    }
    // Every request is signed per Standard Webhooks.
    let all = rx.all();
    for r in &all {
        let (id, ts) = (r.header("webhook-id"), r.header("webhook-timestamp").parse::<i64>().unwrap());
        assert_eq!(r.header("webhook-signature"), handoff_server::hooks::sign(&secret, id, ts, &r.body).unwrap());
    }
    verify_with_python(&secret, &all);
}

async fn failing_receivers_are_retried_dead_lettered_and_replayed(backend: Backend) {
    let stack = TestStack::start_with(backend, |c| c.hook_retry_schedule = vec![Duration::from_millis(50); 3]).await;
    let rx = Receiver::start().await;
    *rx.status.lock().unwrap() = 500;
    let sub = subscribe(&stack, &rx.url, json!(["message.*", "conversation.*"])).await;
    stack.sandbox.sandbox.customer_says("4941", "Ola", "hello").await.unwrap();
    // 1 try + 3 retries, then dead; the later events of the conversation waited their turn.
    eventually(10, "four attempts", || async { (rx.all().len() >= 4).then_some(()) }).await;
    let first_id = rx.all()[0].header("webhook-id").to_owned();
    let log: Vec<Value> = eventually(10, "the dead letter", || async {
        let d: Vec<Value> = stack.get_json(&format!("/v1/webhooks/{}/deliveries", sub["id"]), BOT).await;
        d.iter().any(|x| x["status"] == "dead").then_some(d)
    })
    .await;
    let dead = log.iter().find(|x| x["status"] == "dead").unwrap();
    assert_eq!(dead["event_id"], first_id.as_str());
    assert_eq!(dead["attempts"], 4);
    assert_eq!(dead["log"].as_array().unwrap().len(), 4);
    assert_eq!(dead["log"][0]["status_code"], 500);
    assert_eq!(rx.all()[..4].iter().filter(|r| r.header("webhook-id") == first_id).count(), 4, "nothing overtook it");

    // The receiver is fixed: the rest flows, and the dead letter can be replayed.
    *rx.status.lock().unwrap() = 200;
    let r = http()
        .post(format!("{}/v1/webhooks/deliveries/{}/replay", stack.url(), dead["id"]))
        .bearer_auth(BOT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    eventually(10, "the replayed delivery", || async {
        let d: Vec<Value> = stack.get_json(&format!("/v1/webhooks/{}/deliveries", sub["id"]), BOT).await;
        d.iter().all(|x| x["status"] == "delivered").then_some(())
    })
    .await;
    let replayed = rx.all().into_iter().filter(|r| r.header("webhook-id") == first_id).count();
    assert_eq!(replayed, 5, "4 failed attempts and the successful replay, same webhook-id");
}

async fn subscriptions_are_validated(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let post = |body: Value, token: String| {
        let url = format!("{}/v1/webhooks", stack.url());
        async move { http().post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let r = post(json!({"url": "ftp://x", "events": ["*"]}), BOT.into()).await;
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);
    let r = post(json!({"url": "https://x.example/h", "events": ["message.exploded"]}), BOT.into()).await;
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);
    let r = post(json!({"url": "https://x.example/h", "events": []}), BOT.into()).await;
    assert_eq!(r.status(), 422);
    let ana = stack.login("ana@demo.handoff.dev").await;
    let r = post(json!({"url": "https://x.example/h", "events": ["*"]}), ana.token.expose().to_owned()).await;
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::Forbidden);
    let r = post(json!({"url": "https://x.example/h", "events": ["conversation.*"]}), BOT.into()).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].clone();
    let r = http()
        .patch(format!("{}/v1/webhooks/{id}", stack.url()))
        .bearer_auth(BOT)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["enabled"], false);
    let r = http().delete(format!("{}/v1/webhooks/{id}", stack.url())).bearer_auth(BOT).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = http().delete(format!("{}/v1/webhooks/{id}", stack.url())).bearer_auth(BOT).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
