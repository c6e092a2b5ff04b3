//! Disorder and garbage, on SQLite and PostgreSQL.
//!
//! - Each webhook delivered three times, shuffled, ends in the same stored state as one
//!   ordered delivery.
//! - Seeded fuzzing: arbitrary bytes and randomly mutated real payloads (from
//!   ../shared/fixtures/whatsapp), correctly signed, never get a 5xx, and a batch is
//!   stored whole or not at all.

use handoff_server::testkit::{eventually, TestStack};
use handoff_server::{on_both_backends, seed, Backend};
use handoff_whatsapp::payloads::{self, BusinessNumber};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(three_shuffled_deliveries_equal_one_ordered, mutated_payloads_and_garbage_never_break_ingestion);

const SECRET: &str = "test-app-secret";

async fn post(stack: &TestStack, body: &[u8]) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/webhooks/whatsapp", stack.url()))
        .header("x-hub-signature-256", handoff_whatsapp::sign(SECRET, body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Per contact, the stored inbound messages in thread order.
async fn threads(stack: &TestStack) -> Vec<(String, String, String, i64)> {
    sqlx::query(
        "SELECT k.wa_id, m.wamid, m.text, m.sent_at FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         JOIN contacts k ON k.id = c.contact_id WHERE m.direction = 'inbound' ORDER BY k.wa_id, m.sent_at, m.id",
    )
    .fetch_all(&stack.server.state.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get("wa_id"), r.get("wamid"), r.get("text"), r.get("sent_at")))
    .collect()
}

async fn three_shuffled_deliveries_equal_one_ordered(backend: Backend) {
    let n = BusinessNumber {
        waba_id: "1".into(),
        phone_number_id: seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: "1".into(),
    };
    let bodies: Vec<Vec<u8>> = (0..30)
        .map(|i| {
            let wa = format!("49555{}", i % 3);
            let v = payloads::inbound_text(
                &n,
                &wa,
                "S",
                &format!("wamid.SHUF{i:03}"),
                1_700_000_000 + i * 7,
                &format!("question {i}: what are your opening hours?"),
            );
            serde_json::to_vec(&v).unwrap()
        })
        .collect();
    let ordered = TestStack::start(backend).await;
    for b in &bodies {
        assert_eq!(post(&ordered, b).await, 200);
    }
    let shuffled = TestStack::start(backend).await;
    let mut deliveries: Vec<&Vec<u8>> = bodies.iter().chain(bodies.iter()).chain(bodies.iter()).collect();
    deliveries.shuffle(&mut StdRng::seed_from_u64(7));
    for b in deliveries {
        assert_eq!(post(&shuffled, b).await, 200);
    }
    let a = threads(&ordered).await;
    assert_eq!(a.len(), 30);
    assert_eq!(a, threads(&shuffled).await, "the same threads in the same order");
    // Each message answered once by the bot, in both.
    for stack in [&ordered, &shuffled] {
        eventually(10, "30 bot answers", || async {
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM messages WHERE author = 'bot'")
                .fetch_one(&stack.server.state.db.pool)
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            (n == 30).then_some(())
        })
        .await;
    }
}

fn fixtures() -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/whatsapp/pywa");
    let mut out = Vec::new();
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        if f.path().extension().and_then(|e| e.to_str()) == Some("json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(f.path()).unwrap()).unwrap();
            out.extend(v.as_object().unwrap().values().cloned());
        }
    }
    out
}

/// One random change somewhere in the JSON tree.
fn mutate(v: &mut Value, rng: &mut StdRng, depth: usize) {
    let replace = |rng: &mut StdRng| match rng.gen_range(0..7) {
        0 => Value::Null,
        1 => json!(rng.gen::<i64>()),
        2 => json!(rng.gen::<f64>()),
        3 => json!("ü\u{0}\"<>{}"),
        4 => json!([]),
        5 => json!({}),
        _ => json!(rng.gen::<bool>()),
    };
    match v {
        Value::Object(map) if !map.is_empty() && depth < 12 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = &keys[rng.gen_range(0..keys.len())];
            match rng.gen_range(0..4) {
                0 => {
                    map.remove(k);
                }
                1 => {
                    map.insert(k.clone(), replace(rng));
                }
                _ => mutate(map.get_mut(k).unwrap(), rng, depth + 1),
            }
        }
        Value::Array(items) if !items.is_empty() && depth < 12 => match rng.gen_range(0..4) {
            0 => {
                items.pop();
            }
            1 => {
                let dup = items[0].clone();
                items.push(dup);
            }
            _ => {
                let i = rng.gen_range(0..items.len());
                mutate(&mut items[i], rng, depth + 1)
            }
        },
        other => *other = replace(rng),
    }
}

fn wamids(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for e in v["entry"].as_array().into_iter().flatten() {
        for c in e["changes"].as_array().into_iter().flatten() {
            for m in c["value"]["messages"].as_array().into_iter().flatten() {
                if let Some(id) = m["id"].as_str() {
                    out.push(id.to_owned());
                }
            }
        }
    }
    out
}

async fn mutated_payloads_and_garbage_never_break_ingestion(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mut rng = StdRng::seed_from_u64(20261123);
    let base = fixtures();
    for case in 0..250 {
        let (body, ids) = if case % 5 == 0 {
            let len = rng.gen_range(0..600);
            ((0..len).map(|_| rng.gen::<u8>()).collect::<Vec<u8>>(), vec![])
        } else {
            let mut v = base[rng.gen_range(0..base.len())].clone();
            for _ in 0..rng.gen_range(1..4) {
                mutate(&mut v, &mut rng, 0);
            }
            // Fresh ids, so that "stored" means stored by this delivery.
            let text = v.to_string().replace("wamid.", &format!("wamid.F{case}x"));
            let v: Value = serde_json::from_str(&text).unwrap();
            let ids = wamids(&v);
            (serde_json::to_vec(&v).unwrap(), ids)
        };
        let status = post(&stack, &body).await;
        assert!(status == 200 || status == 400, "case {case}: HTTP {status} for {}", String::from_utf8_lossy(&body));
        if ids.is_empty() {
            continue;
        }
        let mut stored = 0;
        for id in &ids {
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM messages WHERE wamid = $1")
                .bind(id)
                .fetch_one(&stack.server.state.db.pool)
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            stored += n;
        }
        if status == 400 {
            assert_eq!(stored, 0, "case {case}: a refused batch stored nothing");
        }
    }
    // Still healthy, and a normal message still goes through.
    let n = BusinessNumber {
        waba_id: "1".into(),
        phone_number_id: seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: "1".into(),
    };
    let ok =
        serde_json::to_vec(&payloads::inbound_text(&n, "4977", "Z", "wamid.AFTERFUZZ", 1_700_000_000, "still fine?"))
            .unwrap();
    assert_eq!(post(&stack, &ok).await, 200);
}
