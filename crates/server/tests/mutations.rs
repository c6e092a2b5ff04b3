//! Exactly-once mutations by `Idempotency-Key` (the desktop app's outbox), on SQLite and
//! PostgreSQL: a retry gets the first answer and changes nothing; a key whose answer
//! was lost in a crash answers `already_applied`; concurrent retries apply once.

use handoff_server::testkit::{TestApi, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(retries_of_a_keyed_mutation_apply_once,);

async fn keyed(stack: &TestStack, path: &str, token: &str, key: &str, body: Value) -> (u16, bool, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", stack.url()))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, replayed, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn audit_count(stack: &TestStack, action: &str, conv: i64) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = $1 AND entity_id = $2")
        .bind(action)
        .bind(conv)
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn retries_of_a_keyed_mutation_apply_once(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let ana = stack.login("ana@demo.handoff.dev").await.token.expose().to_owned();
    let ben = stack.login("ben@demo.handoff.dev").await.token.expose().to_owned();
    // Nobody is online: the conversation waits in the queue.
    let (conv, owner) = api.escalate("4477001000", json!({})).await;
    assert_eq!(owner, None);
    let claim = format!("/v1/conversations/{conv}/claim");

    // A bad key is refused before anything happens.
    let (status, _, body) = keyed(&stack, &claim, &ana, "no spaces allowed", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_input")));
    assert_eq!(api.assignee(conv).await, None);

    // Five concurrent sends of one claim (a retry storm): applied once.
    let tries = (0..5).map(|_| keyed(&stack, &claim, &ana, "m-claim-1", json!({})));
    let answers = futures_util::future::join_all(tries).await;
    // Each gets the claimed conversation (replayed, or "already yours") or learns the
    // claim was applied; the claim itself happened once.
    for (status, _, body) in &answers {
        assert!(*status == 200 || body["code"] == "already_applied", "{status} {body}");
    }
    assert_eq!(audit_count(&stack, "conversation.claimed", conv).await, 1, "{answers:?}");
    let ana_id = api.assignee(conv).await.expect("claimed");

    // A later retry gets the very same answer, marked as replayed.
    let stored: String = sqlx::query("SELECT response FROM mutations WHERE client_id = 'm-claim-1'")
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .try_get("response")
        .unwrap();
    let (status, replayed, again) = keyed(&stack, &claim, &ana, "m-claim-1", json!({})).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, serde_json::from_str::<Value>(&stored).unwrap());
    assert_eq!(again["assignee_id"], json!(ana_id));
    // The same key on another request is a mistake, said so.
    let (status, _, body) =
        keyed(&stack, &format!("/v1/conversations/{conv}/resolve"), &ana, "m-claim-1", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));

    // A transfer with a note, retried: one transfer, one note for Ben.
    let ben_id = api.ok("GET", "/v1/me", &ben, None).await["id"].as_i64().unwrap();
    let transfer = format!("/v1/conversations/{conv}/transfer");
    let req = json!({ "agent_id": ben_id, "note": "VIP, wants a refund" });
    let (status, replayed, _) = keyed(&stack, &transfer, &ana, "m-transfer-1", req.clone()).await;
    assert_eq!((status, replayed), (200, false));
    let (status, replayed, body) = keyed(&stack, &transfer, &ana, "m-transfer-1", req).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(body["assignee_id"], json!(ben_id));
    assert_eq!(audit_count(&stack, "conversation.transferred", conv).await, 1);
    assert_ne!(ben_id, ana_id);

    // The server dies after applying a resolve and before keeping its answer: the
    // retry learns it is done (409 already_applied) and nothing is applied twice.
    let resolve = format!("/v1/conversations/{conv}/resolve");
    let (status, replayed, _) = keyed(&stack, &resolve, &ben, "m-resolve-1", json!({ "note": "refunded" })).await;
    assert_eq!((status, replayed), (204, false));
    sqlx::query("UPDATE mutations SET status = NULL, response = NULL WHERE client_id = 'm-resolve-1'")
        .execute(&stack.server.state.db.pool)
        .await
        .unwrap();
    let (status, _, body) = keyed(&stack, &resolve, &ben, "m-resolve-1", json!({ "note": "refunded" })).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_applied")));
    // Without the key the same resolve is a new request: refused, nothing to resolve.
    let (status, body) = api.call("POST", &resolve, &ben, Some(json!({}))).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_escalated")));
    let resolved: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM handoffs WHERE conversation_id = $1 AND status = 'resolved'")
            .bind(conv)
            .fetch_one(&stack.server.state.db.pool)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
    assert_eq!(resolved, 1);

    // Keys are per person: Ana's key is not Ben's.
    let (conv2, _) = api.escalate("4477001001", json!({})).await;
    let (status, replayed, _) =
        keyed(&stack, &format!("/v1/conversations/{conv2}/claim"), &ben, "m-claim-1", json!({})).await;
    assert_eq!((status, replayed), (200, false));

    // The route table documents the header.
    let doc = handoff_server::openapi::document();
    let params = doc["paths"]["/v1/conversations/{id}/claim"]["post"]["parameters"].as_array().unwrap().clone();
    assert!(params.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
}
