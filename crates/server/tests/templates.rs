//! The template registry over real HTTP, on SQLite and PostgreSQL: synced from the
//! Graph API at start, kept current by status webhooks, and the only way to write
//! outside the 24-hour window.

use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};

on_both_backends!(templates_are_synced_approved_and_sent_outside_the_window);

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn templates(stack: &TestStack, token: &str) -> Vec<Value> {
    stack.get_json("/v1/templates", token).await
}

async fn templates_are_synced_approved_and_sent_outside_the_window(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let token = ana.token.expose().to_owned();
    // Synced from the (sandboxed) Graph API at start.
    let list = eventually(10, "the template sync", || async {
        let l = templates(&stack, &token).await;
        (l.len() == 4).then_some(l)
    })
    .await;
    let status = |l: &[Value], name: &str| {
        l.iter().find(|t| t["name"] == name).map(|t| t["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status(&list, "order_update").as_deref(), Some("APPROVED"));
    assert_eq!(status(&list, "spring_sale").as_deref(), Some("PENDING"));

    // A conversation Ana owns, whose window has closed.
    stack.set_online(&token).await;
    stack.sandbox.sandbox.customer_says("4901234", "Kai", "talk to a human").await.unwrap();
    let conv: Conversation = eventually(10, "assignment", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", &token).await;
        l.into_iter().find(|c| c.state == ConversationState::Assigned)
    })
    .await;
    sqlx::query("UPDATE conversations SET last_inbound_at = $1 WHERE id = $2")
        .bind(handoff_server::db::now_ms() - 25 * 3600 * 1000)
        .bind(conv.id.0)
        .execute(&stack.server.state.db.pool)
        .await
        .unwrap();
    let text = http()
        .post(format!("{}/v1/conversations/{}/messages", stack.url(), conv.id))
        .bearer_auth(&token)
        .json(&json!({"client_id": "t0", "text": "Hi again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(text.json::<ApiError>().await.unwrap().code, ErrorCode::WindowClosed);
    let send = |client_id: &str, name: &str, params: Value| {
        let url = format!("{}/v1/conversations/{}/template", stack.url(), conv.id);
        let body = json!({"client_id": client_id, "name": name, "language": "en_US", "parameters": params});
        let token = token.clone();
        async move { http().post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    // Not approved yet: refused before any call to Meta.
    let r = send("t1", "spring_sale", json!(["20%"])).await;
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (409, ErrorCode::TemplateNotApproved));
    // Meta approves it: the status webhook updates the registry, and it can be sent.
    let r = http()
        .post(format!("{}/sandbox/templates/spring_sale/status", stack.sandbox.url()))
        .json(&json!({"status": "APPROVED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["server_status"], 200);
    let l = templates(&stack, &token).await;
    assert_eq!(status(&l, "spring_sale").as_deref(), Some("APPROVED"));
    let r = send("t2", "order_update", json!(["Kai", "#4821"])).await;
    assert_eq!(r.status(), 201);
    let m: Message = r.json().await.unwrap();
    assert_eq!((m.kind.as_str(), m.text.as_deref()), ("template", Some("[template order_update] Kai, #4821")));
    let sent = eventually(10, "the template at the Graph API", || async {
        stack.sandbox.sandbox.sent().await.into_iter().find(|s| s.body["template"]["name"] == "order_update")
    })
    .await;
    assert_eq!(
        sent.body["template"],
        json!({"name": "order_update", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": [
            {"type": "text", "text": "Kai"}, {"type": "text", "text": "#4821"}]}]})
    );
    assert_eq!(
        send("t2", "order_update", json!(["Kai", "#4821"])).await.status(),
        200,
        "a retried client_id applies once"
    );

    // A customer who stopped marketing gets no marketing template; utility ones still go.
    let r = http()
        .put(format!("{}/v1/contacts/{}/attributes", stack.url(), conv.contact.id))
        .bearer_auth(handoff_server::seed::DEMO_BOT_TOKEN)
        .json(&json!({"marketing_opt_out": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = send("t3", "spring_sale", json!(["20%"])).await;
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::MarketingOptOut);
    assert_eq!(send("t4", "follow_up", json!(["Kai"])).await.status(), 201);

    // A rejection from Meta (pywa's fixture) lands in the registry with its reason.
    let body = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/whatsapp/pywa/template_status_update.json"),
    )
    .unwrap();
    let rejected = serde_json::to_vec(&serde_json::from_str::<Value>(&body).unwrap()["rejected"]).unwrap();
    let r = http()
        .post(format!("{}/webhooks/whatsapp", stack.url()))
        .header("x-hub-signature-256", handoff_whatsapp::sign("test-app-secret", &rejected))
        .body(rejected)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let l = templates(&stack, &token).await;
    let cart = l.iter().find(|t| t["name"] == "abandoned_cart").expect("the rejected template is known");
    assert_eq!(cart["status"], "REJECTED");
    assert!(cart["rejection_reason"].as_str().unwrap().contains("parameters placed next to each other"));
}
