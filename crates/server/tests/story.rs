//! The foundation slice end to end over real HTTP: WhatsApp sandbox → webhook → bot →
//! handoff → assignment → agent reply → Graph API → statuses → resolve → bot again.
//! Every test runs against SQLite and PostgreSQL.

use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(
    customer_reaches_a_person_and_back,
    bad_signatures_store_nothing,
    duplicate_deliveries_store_one_message,
    shared_fixtures_all_answer_200,
    verification_handshake,
    bots_hand_off_through_the_api,
    auth_errors_have_stable_codes,
    replies_are_checked,
    live_events_poke_on_change,
    assignment_is_round_robin_among_online_agents,
    triggers_fire_and_are_recorded,
    trigger_settings_per_workspace,
    the_handoff_record_keeps_context_and_timeline,
    batches_limits_and_marketing_preferences,
);

const CUSTOMER: &str = "4915112345678";

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn count(stack: &TestStack, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&stack.server.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn business_lines(stack: &TestStack, wa_id: &str) -> Vec<String> {
    stack.sandbox.sandbox.transcript(wa_id).await.into_iter().filter(|l| l.from == "business").map(|l| l.text).collect()
}

async fn customer_reaches_a_person_and_back(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let token = ana.token.expose().to_owned();
    stack.set_online(&token).await;

    // 1. The bot answers an FAQ in the thread.
    let (_, status) = sb.customer_says(CUSTOMER, "Lena Vogel", "Hi! What are your opening hours?").await.unwrap();
    assert_eq!(status, 200);
    eventually(10, "the bot's FAQ answer", || async {
        business_lines(&stack, CUSTOMER).await.iter().any(|t| t.contains("Monday to Friday")).then_some(())
    })
    .await;
    // Automation-only conversations are in nobody's inbox.
    let inbox: Vec<Conversation> = stack.get_json("/v1/conversations", &token).await;
    assert!(inbox.is_empty());

    // 2. The customer asks for a person: warm transition message, assigned to Ana.
    sb.customer_says(CUSTOMER, "Lena Vogel", "I want to talk to a human please").await.unwrap();
    eventually(10, "the transition message", || async {
        business_lines(&stack, CUSTOMER).await.iter().any(|t| t.contains("handing you over")).then_some(())
    })
    .await;
    let conv: Conversation = eventually(10, "the conversation in Ana's inbox", || async {
        let inbox: Vec<Conversation> = stack.get_json("/v1/conversations", &token).await;
        inbox.into_iter().find(|c| c.state == ConversationState::Assigned)
    })
    .await;
    assert_eq!(conv.assignee_id, Some(ana.agent.id));
    assert_eq!(conv.contact.wa_id.as_deref(), Some(CUSTOMER));
    assert_eq!(conv.workflow_status, WorkflowStatus::Handoff);
    assert_eq!(conv.contact.name.as_deref(), Some("Lena Vogel"));

    // 3. A pull from cursor 0 carries the whole history, the bot's part included, and why.
    let sync: SyncResponse = stack.get_json("/v1/sync?cursor=0", &token).await;
    assert_eq!(sync.conversations.len(), 1);
    let authors: Vec<Author> = sync.messages.iter().map(|m| m.author).collect();
    assert_eq!(authors, vec![Author::Customer, Author::Bot, Author::Customer, Author::Bot]);
    assert_eq!(sync.handoffs.len(), 1);
    let h = &sync.handoffs[0];
    assert_eq!(
        (h.trigger, h.status, h.assignee_id),
        (HandoffTrigger::CustomerRequest, HandoffStatus::Assigned, Some(ana.agent.id))
    );
    assert!(h.reason.contains("human"), "{}", h.reason);
    assert!(sync.cursor > 0);

    // 4. While a person owns the thread the bot says nothing.
    let before = business_lines(&stack, CUSTOMER).await.len();
    let (wamid, _) = sb.customer_says(CUSTOMER, "Lena Vogel", "What are your opening hours again?").await.unwrap();
    eventually(10, "the message to be processed", || async {
        let n = sqlx::query("SELECT COUNT(*) FROM messages WHERE wamid = $1 AND processed_at IS NOT NULL")
            .bind(&wamid)
            .fetch_one(&stack.server.state.db.pool)
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap();
        (n == 1).then_some(())
    })
    .await;
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM messages WHERE author = 'bot'").await, 2);
    assert_eq!(business_lines(&stack, CUSTOMER).await.len(), before);

    // 5. Ana replies: app → server → Graph API, in Meta's wire format, exactly once.
    let reply = json!({"client_id": "c-1", "text": "Hi Lena, I'm Ana. Let me check your order."});
    let url = format!("{}/v1/conversations/{}/messages", stack.url(), conv.id);
    let first = http().post(&url).bearer_auth(&token).json(&reply).send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Message = first.json().await.unwrap();
    assert_eq!((first.author, first.status), (Author::Agent, DeliveryStatus::Queued));
    let again = http().post(&url).bearer_auth(&token).json(&reply).send().await.unwrap();
    assert_eq!(again.status(), 200, "a retried client_id is applied once");
    assert_eq!(again.json::<Message>().await.unwrap().id, first.id);
    let sent = eventually(10, "the reply at the Graph API", || async {
        sb.sent().await.into_iter().find(|s| s.body["text"]["body"] == "Hi Lena, I'm Ana. Let me check your order.")
    })
    .await;
    assert_eq!(
        sent.body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER, "type": "text",
               "biz_opaque_callback_data": format!("handoff:{}", first.id),
               "text": {"body": "Hi Lena, I'm Ana. Let me check your order.", "preview_url": false}})
    );
    assert_eq!(sent.phone_number_id, handoff_server::seed::DEMO_PHONE_NUMBER_ID);
    let agent_sends = sb.sent().await.into_iter().filter(|s| s.body["text"]["body"] == reply["text"]).count();
    assert_eq!(agent_sends, 1);

    // 6. Signed status webhooks move it to read.
    let detail_url = format!("/v1/conversations/{}", conv.id);
    eventually(10, "the reply to be read", || async {
        let d: ConversationDetail = stack.get_json(&detail_url, &token).await;
        let m = d.messages.iter().find(|m| m.id == first.id).unwrap().clone();
        (m.status == DeliveryStatus::Read).then_some(())
    })
    .await;
    let d: ConversationDetail = stack.get_json(&detail_url, &token).await;
    assert_eq!(d.messages.iter().find(|m| m.id == first.id).unwrap().wamid.as_deref(), Some(sent.wamid.as_str()));

    // 7. Resolve: back to automation, and the bot answers again.
    let resp = http()
        .post(format!("{}/v1/conversations/{}/resolve", stack.url(), conv.id))
        .bearer_auth(&token)
        .json(&json!({"note": "Order re-shipped"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let d: ConversationDetail = stack.get_json(&detail_url, &token).await;
    assert_eq!(d.conversation.state, ConversationState::Automation);
    assert_eq!(d.conversation.assignee_id, None);
    assert_eq!(d.handoffs[0].status, HandoffStatus::Resolved);
    assert_eq!(d.conversation.workflow_status, WorkflowStatus::Resolved);
    assert_eq!(d.handoffs[0].resolution_note.as_deref(), Some("Order re-shipped"));
    sb.customer_says(CUSTOMER, "Lena Vogel", "One more thing: how long is shipping?").await.unwrap();
    eventually(10, "the bot to answer again", || async {
        business_lines(&stack, CUSTOMER).await.iter().any(|t| t.contains("ship within 2 business days")).then_some(())
    })
    .await;
    let d: ConversationDetail = stack.get_json(&detail_url, &token).await;
    assert_eq!(d.conversation.workflow_status, WorkflowStatus::Active, "automation is back at work");
    // A workflow engine reports its execution for this conversation failed.
    let r = http()
        .put(format!("{}/v1/workflows/executions/ex-1/status", stack.url()))
        .bearer_auth(handoff_server::seed::DEMO_BOT_TOKEN)
        .json(&json!({"status": "failed", "error": "CRM timeout", "conversation_id": conv.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d: ConversationDetail = stack.get_json(&detail_url, &token).await;
    assert_eq!(d.conversation.workflow_status, WorkflowStatus::Failed);
}

async fn signed_post(stack: &TestStack, body: &[u8], signature: Option<&str>) -> reqwest::Response {
    let mut req = http()
        .post(format!("{}/webhooks/whatsapp", stack.url()))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    req.send().await.unwrap()
}

fn text_webhook(wamid: &str, text: &str) -> Vec<u8> {
    let n = handoff_whatsapp::payloads::BusinessNumber {
        waba_id: "1".into(),
        phone_number_id: handoff_server::seed::DEMO_PHONE_NUMBER_ID.into(),
        display_phone_number: "15550100".into(),
    };
    serde_json::to_vec(&handoff_whatsapp::payloads::inbound_text(&n, CUSTOMER, "Lena", wamid, 1_700_000_000, text))
        .unwrap()
}

async fn bad_signatures_store_nothing(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let body = text_webhook("wamid.SIG1", "hello");
    for sig in [
        None,
        Some("sha256=00".to_owned()),
        Some(handoff_whatsapp::sign("wrong-secret", &body)),
        Some("garbage".into()),
    ] {
        let resp = signed_post(&stack, &body, sig.as_deref()).await;
        assert_eq!(resp.status(), 401);
        let err: ApiError = resp.json().await.unwrap();
        assert_eq!(err.code, ErrorCode::InvalidSignature);
    }
    // A body altered after signing fails too.
    let sig = handoff_whatsapp::sign("test-app-secret", &body);
    let tampered = text_webhook("wamid.SIG1", "hellO");
    assert_eq!(signed_post(&stack, &tampered, Some(&sig)).await.status(), 401);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM webhook_events").await, 0);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM messages").await, 0);
    // The right signature over the same bytes is accepted and stored.
    assert_eq!(signed_post(&stack, &body, Some(&sig)).await.status(), 200);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM messages WHERE direction = 'inbound'").await, 1);

    // Signed but not JSON: kept raw, told clearly.
    let junk = b"{not json";
    let resp = signed_post(&stack, junk, Some(&handoff_whatsapp::sign("test-app-secret", junk))).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidJson);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM webhook_events WHERE parse_error IS NOT NULL").await, 1);
}

async fn duplicate_deliveries_store_one_message(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let body = text_webhook("wamid.DUP1", "hello twice");
    let sig = handoff_whatsapp::sign("test-app-secret", &body);
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (url, body, sig) = (stack.url(), body.clone(), sig.clone());
        tasks.push(tokio::spawn(async move {
            http()
                .post(format!("{url}/webhooks/whatsapp"))
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(signed_post(&stack, &body, Some(&sig)).await.status(), 200);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM messages WHERE wamid = 'wamid.DUP1'").await, 1);
    // (Status webhooks for the bot's reply may arrive meanwhile: count this message's.)
    assert_eq!(
        count(&stack, "SELECT COUNT(*) FROM webhook_events WHERE body LIKE '%wamid.DUP1%'").await,
        6,
        "every delivery is logged raw"
    );
    // The bot answers once, not six times.
    eventually(10, "one bot answer", || async {
        (count(&stack, "SELECT COUNT(*) FROM messages WHERE author = 'bot'").await == 1).then_some(())
    })
    .await;
}

fn shared_dir() -> std::path::PathBuf {
    std::env::var("HANDOFF_SHARED_DIR")
        .map(Into::into)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// Every payload of ../shared/fixtures/whatsapp, signed, answers 200; their messages
/// are stored once each, unknown kinds included.
async fn shared_fixtures_all_answer_200(backend: Backend) {
    let stack = TestStack::start_with(backend, |c| c.wa_app_secret = "1222e786b144d0e85b9f365372d93676".into()).await;
    let dir = shared_dir().join("fixtures/whatsapp");
    let mut payloads: Vec<(String, Value)> = Vec::new();
    for sub in ["pywa", "meta-docs"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub)).expect("shared fixtures present").flatten().collect();
        files.sort_by_key(|f| f.path());
        for f in files {
            let path = f.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            if sub == "pywa" {
                for (name, body) in v.as_object().unwrap() {
                    payloads.push((format!("{file}:{name}"), body.clone()));
                }
            } else {
                payloads.push((file, v));
            }
        }
    }
    assert!(payloads.len() >= 70, "expected the 74 pywa payloads and Meta's examples, found {}", payloads.len());
    // wamid -> kind of the first delivery that carried it (later ones are duplicates).
    let mut wamids = std::collections::BTreeMap::new();
    for (name, body) in &payloads {
        let bytes = serde_json::to_vec(body).unwrap();
        let sig = handoff_whatsapp::sign("1222e786b144d0e85b9f365372d93676", &bytes);
        let resp = signed_post(&stack, &bytes, Some(&sig)).await;
        assert_eq!(resp.status(), 200, "{name}: {}", resp.text().await.unwrap_or_default());
        if let Ok(parsed) = serde_json::from_value::<handoff_whatsapp::WebhookBody>(body.clone()) {
            for e in &parsed.entry {
                for c in &e.changes {
                    if let Some(v) = c.messages_value() {
                        for m in &v.messages {
                            if !m.id.is_empty() && m.sender().is_some() {
                                wamids.entry(m.id.clone()).or_insert_with(|| m.kind.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM webhook_events").await, payloads.len() as i64);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM messages WHERE direction = 'inbound'").await, wamids.len() as i64);
    assert!(wamids.len() >= 10, "pywa reuses wamids across payloads; {} distinct", wamids.len());
    let stored: std::collections::BTreeMap<String, String> =
        sqlx::query("SELECT wamid, kind FROM messages WHERE direction = 'inbound'")
            .fetch_all(&stack.server.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("wamid"), r.get("kind")))
            .collect();
    assert_eq!(stored, wamids, "each wamid once, as first delivered");
    let kinds: std::collections::BTreeSet<&String> = stored.values().collect();
    assert!(kinds.len() >= 5, "many message kinds are stored, not only text: {kinds:?}");

    // The exact raw bytes pywa signed, with the header Meta sent.
    let raw = std::fs::read(dir.join("pywa/signed_text_message.body")).unwrap();
    let header = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441";
    assert_eq!(signed_post(&stack, &raw, Some(header)).await.status(), 200);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM messages WHERE text = 'Hey there! I am using PyWa.'").await, 1);
}

async fn verification_handshake(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let ok = http()
        .get(format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=test-verify-token",
            stack.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = http()
        .get(format!("{}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope", stack.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
    assert_eq!(bad.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidVerifyToken);
}

async fn bots_hand_off_through_the_api(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    sb.customer_says(CUSTOMER, "Lena", "hello").await.unwrap();
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let conv: Conversation = eventually(10, "the conversation", || async {
        let list: Vec<Conversation> = stack.get_json("/v1/conversations", bot).await;
        list.into_iter().next()
    })
    .await;
    let url = format!("{}/v1/conversations/{}/handoff", stack.url(), conv.id);
    let req = json!({"reason": "Refund over $500", "priority": "high", "summary": "Wants a refund for order 4821"});
    let resp = http().post(&url).bearer_auth(bot).json(&req).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let h: Handoff = resp.json().await.unwrap();
    assert_eq!((h.trigger, h.priority, h.status), (HandoffTrigger::Api, Priority::High, HandoffStatus::Waiting));
    assert_eq!(h.requested_by, "api:demo-bot");
    assert_eq!(h.summary.as_deref(), Some("Wants a refund for order 4821"));
    // Twice: refused with a stable code.
    let again = http().post(&url).bearer_auth(bot).json(&req).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(again.json::<ApiError>().await.unwrap().code, ErrorCode::AlreadyEscalated);
    // Nobody online: it waits. Ben comes online: the queue drains to him.
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{}", conv.id), bot).await;
    assert_eq!(d.conversation.state, ConversationState::Waiting);
    assert_eq!(d.conversation.priority, Priority::High);
    let ben = stack.login("ben@demo.handoff.dev").await;
    stack.set_online(ben.token.expose()).await;
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{}", conv.id), bot).await;
    assert_eq!((d.conversation.state, d.conversation.assignee_id), (ConversationState::Assigned, Some(ben.agent.id)));
    // Nobody was online: the customer was told a person will reply shortly.
    eventually(10, "the acknowledgement", || async {
        business_lines(&stack, CUSTOMER)
            .await
            .iter()
            .any(|t| t.contains("A person will reply here shortly"))
            .then_some(())
    })
    .await;
    // A reason is required.
    let other = http().post(&url).bearer_auth(bot).json(&json!({"reason": "  "})).send().await.unwrap();
    assert_eq!(other.status(), 409, "already escalated wins over validation here");
    let missing = http()
        .post(format!("{}/v1/conversations/999999/handoff", stack.url()))
        .bearer_auth(bot)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

async fn auth_errors_have_stable_codes(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let login = |body: Value| {
        let url = format!("{}/v1/auth/login", stack.url());
        async move { http().post(url).json(&body).send().await.unwrap() }
    };
    let wrong = login(json!({"email": "ana@demo.handoff.dev", "password": "nope"})).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidCredentials);
    let unknown = login(json!({"email": "who@x.dev", "password": "nope"})).await;
    assert_eq!(unknown.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidCredentials);
    let malformed = http()
        .post(format!("{}/v1/auth/login", stack.url()))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidJson);
    let missing_field = login(json!({"email": "ana@demo.handoff.dev"})).await;
    assert_eq!(missing_field.status(), 422);
    assert_eq!(missing_field.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);

    let none = http().get(format!("{}/v1/me", stack.url())).send().await.unwrap();
    assert_eq!((none.status().as_u16(), none.json::<ApiError>().await.unwrap().code), (401, ErrorCode::Unauthorized));

    let ana = stack.login("ANA@demo.handoff.dev").await;
    let token = ana.token.expose();
    assert!(token.starts_with("hos_"));
    let me: Agent = stack.get_json("/v1/me", token).await;
    assert_eq!(me.email, "ana@demo.handoff.dev");
    // Tokens are stored hashed, never in plain text.
    let plain = sqlx::query("SELECT COUNT(*) FROM tokens WHERE token_hash = $1")
        .bind(token)
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
    assert_eq!(plain, 0);
    let out = http().post(format!("{}/v1/auth/logout", stack.url())).bearer_auth(token).send().await.unwrap();
    assert_eq!(out.status(), 204);
    let after = http().get(format!("{}/v1/me", stack.url())).bearer_auth(token).send().await.unwrap();
    assert_eq!((after.status().as_u16(), after.json::<ApiError>().await.unwrap().code), (401, ErrorCode::TokenRevoked));

    // An expired session says so.
    let ben = stack.login("ben@demo.handoff.dev").await;
    sqlx::query("UPDATE tokens SET expires_at = 1 WHERE token_hash = $1")
        .bind(handoff_server::auth::token_hash(ben.token.expose()))
        .execute(&stack.server.state.db.pool)
        .await
        .unwrap();
    let expired = http().get(format!("{}/v1/me", stack.url())).bearer_auth(ben.token.expose()).send().await.unwrap();
    assert_eq!(expired.json::<ApiError>().await.unwrap().code, ErrorCode::TokenExpired);
    // Bot tokens cannot act as people.
    let bot = http()
        .get(format!("{}/v1/me", stack.url()))
        .bearer_auth(handoff_server::seed::DEMO_BOT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!((bot.status().as_u16(), bot.json::<ApiError>().await.unwrap().code), (403, ErrorCode::Forbidden));
}

async fn replies_are_checked(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let ben = stack.login("ben@demo.handoff.dev").await;
    stack.set_online(ana.token.expose()).await;
    stack.sandbox.sandbox.customer_says(CUSTOMER, "Lena", "agent please").await.unwrap();
    let conv: Conversation = eventually(10, "assignment", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", ana.token.expose()).await;
        l.into_iter().find(|c| c.state == ConversationState::Assigned)
    })
    .await;
    let url = format!("{}/v1/conversations/{}/messages", stack.url(), conv.id);
    // Ben is in the same team, but it is Ana's: he does not even see it.
    let r = http()
        .post(&url)
        .bearer_auth(ben.token.expose())
        .json(&json!({"client_id": "b1", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (404, ErrorCode::NotFound));
    // Maya (a manager) sees it, and it is not hers to answer either.
    let maya = stack.login("maya@demo.handoff.dev").await;
    let r = http()
        .post(&url)
        .bearer_auth(maya.token.expose())
        .json(&json!({"client_id": "m1", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (409, ErrorCode::NotAssignee));
    let long = "x".repeat(4097);
    let r = http()
        .post(&url)
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "a1", "text": long}))
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (422, ErrorCode::MessageTooLong));
    let exactly = "é".repeat(4096);
    let r = http()
        .post(&url)
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "a2", "text": exactly}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "4096 characters (not bytes) are fine");
    let r = http()
        .post(&url)
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "a3", "text": "   "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);
    // Resolving someone else's conversation is refused; resolving twice too.
    let resolve = format!("{}/v1/conversations/{}/resolve", stack.url(), conv.id);
    let r = http().post(&resolve).bearer_auth(ben.token.expose()).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::NotAssignee);
    assert_eq!(http().post(&resolve).bearer_auth(ana.token.expose()).send().await.unwrap().status(), 204);
    let r = http().post(&resolve).bearer_auth(ana.token.expose()).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::NotEscalated);
    // After resolve, replying is refused: automation owns it again.
    let r = http()
        .post(&url)
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "a4", "text": "late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::NotAssignee);
}

async fn live_events_poke_on_change(backend: Backend) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let stack = TestStack::start(backend).await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let mut req = format!("ws://{}/v1/events", stack.server.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", ana.token.expose()).parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let hello = next_event(&mut ws).await;
    let ServerEvent::Hello { cursor: start } = hello else { panic!("first frame is hello: {hello:?}") };
    stack.sandbox.sandbox.customer_says(CUSTOMER, "Lena", "hello").await.unwrap();
    let ServerEvent::Poke { cursor } = next_event(&mut ws).await else { panic!("a poke") };
    assert!(cursor > start);
    // Without a token there is no stream.
    let r = http().get(format!("{}/v1/events", stack.url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

async fn next_event<S>(ws: &mut S) -> ServerEvent
where
    S: futures_util::Stream<
            Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>,
        > + Unpin,
{
    use futures_util::StreamExt;
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("an event within 10 s")
            .expect("stream open")
            .expect("frame");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str::<ServerEvent>(&t).unwrap();
        }
    }
}

async fn assignment_is_round_robin_among_online_agents(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let ben = stack.login("ben@demo.handoff.dev").await;
    stack.set_online(ana.token.expose()).await;
    stack.set_online(ben.token.expose()).await;
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let mut owners = Vec::new();
    for (i, wa) in ["4911", "4922", "4933", "4944"].iter().enumerate() {
        stack.sandbox.sandbox.customer_says(wa, "C", "talk to someone").await.unwrap();
        let c: Conversation = eventually(10, "assignment", || async {
            let l: Vec<Conversation> = stack.get_json("/v1/conversations", bot).await;
            l.into_iter().find(|c| c.contact.wa_id.as_deref() == Some(*wa) && c.state == ConversationState::Assigned)
        })
        .await;
        owners.push(c.assignee_id.unwrap());
        assert_eq!(owners.len(), i + 1);
    }
    assert_ne!(owners[0], owners[1]);
    assert_eq!(owners[0], owners[2]);
    assert_eq!(owners[1], owners[3]);
    // An offline agent gets nothing.
    let resp = http()
        .put(format!("{}/v1/me/availability", stack.url()))
        .bearer_auth(ben.token.expose())
        .json(&json!({"availability": "offline"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Agent>().await.unwrap().availability, Availability::Offline);
    stack.sandbox.sandbox.customer_says("4955", "C", "human").await.unwrap();
    let c: Conversation = eventually(10, "assignment", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", bot).await;
        l.into_iter().find(|c| c.contact.wa_id.as_deref() == Some("4955") && c.state == ConversationState::Assigned)
    })
    .await;
    assert_eq!(c.assignee_id, Some(ana.agent.id));
}

/// Waits for `wa_id`'s conversation to be escalated and returns its latest handoff.
async fn escalation_of(stack: &TestStack, wa_id: &str) -> (Conversation, Handoff) {
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let conv: Conversation = eventually(10, "the escalation", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", bot).await;
        l.into_iter().find(|c| c.contact.wa_id.as_deref() == Some(wa_id) && c.state != ConversationState::Automation)
    })
    .await;
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{}", conv.id), bot).await;
    (d.conversation, d.handoffs.last().cloned().expect("a handoff"))
}

async fn bot_answers(stack: &TestStack, wa_id: &str, n: usize) {
    eventually(10, "the bot's answers", || async { (business_lines(stack, wa_id).await.len() >= n).then_some(()) })
        .await;
}

async fn triggers_fire_and_are_recorded(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;

    // Keyword / intent.
    sb.customer_says("4901", "K", "I want my money back for order 77").await.unwrap();
    let (conv, h) = escalation_of(&stack, "4901").await;
    assert_eq!((h.trigger, h.trigger_detail.as_deref()), (HandoffTrigger::Keyword, Some("refund: \"money back\"")));
    assert_eq!(conv.state, ConversationState::Waiting, "nobody is online");
    assert!(h.sentiment.is_some(), "the message's sentiment is recorded");

    // Negative sentiment (no phrase, no keyword).
    sb.customer_says("4902", "S", "This is ridiculous, you are useless and I am furious").await.unwrap();
    let (conv, h) = escalation_of(&stack, "4902").await;
    assert_eq!(h.trigger, HandoffTrigger::NegativeSentiment);
    assert!(h.sentiment.unwrap() <= -0.5, "{:?}", h.sentiment);
    assert_eq!(conv.priority, Priority::High);

    // Repeated failure: the first fallback is answered, the second hands off.
    sb.customer_says("4903", "F", "xyzzy?").await.unwrap();
    bot_answers(&stack, "4903", 1).await;
    assert!(business_lines(&stack, "4903").await[0].contains("I can answer questions"));
    sb.customer_says("4903", "F", "plugh?").await.unwrap();
    let (_, h) = escalation_of(&stack, "4903").await;
    assert_eq!(
        (h.trigger, h.trigger_detail.as_deref()),
        (HandoffTrigger::RepeatedFailure, Some("2 fallbacks in a row"))
    );
    // The transition message goes out through the send worker, after the escalation.
    bot_answers(&stack, "4903", 2).await;
    assert_eq!(business_lines(&stack, "4903").await.len(), 2, "fallback, then the transition message");

    // Contact rule: a VIP (attribute set by a CRM through the API).
    sb.customer_says("4904", "V", "What are your opening hours?").await.unwrap();
    bot_answers(&stack, "4904", 1).await;
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", bot).await;
    let contact = list.iter().find(|c| c.contact.wa_id.as_deref() == Some("4904")).unwrap().contact.id;
    let r = http()
        .put(format!("{}/v1/contacts/{contact}/attributes", stack.url()))
        .bearer_auth(bot)
        .json(&json!({"vip": true, "crm_id": "C-981"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Contact>().await.unwrap().attributes["crm_id"], "C-981");
    sb.customer_says("4904", "V", "And do you ship to Norway?").await.unwrap();
    let (conv, h) = escalation_of(&stack, "4904").await;
    assert_eq!((h.trigger, h.trigger_detail.as_deref()), (HandoffTrigger::ContactRule, Some("VIP customer")));
    assert_eq!(conv.contact.attributes["vip"], true);
}

async fn trigger_settings_per_workspace(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let url = format!("{}/v1/settings/triggers", stack.url());
    let mut cfg: Value = stack.get_json("/v1/settings/triggers", bot).await;
    assert_eq!(cfg["low_confidence"]["threshold"], 0.8);
    cfg["keywords"]["enabled"] = json!(false);
    cfg["negative_sentiment"]["enabled"] = json!(false);
    cfg["customer_request"]["phrases"] = json!(["falar com alguém"]);
    let maya = stack.login("maya@demo.handoff.dev").await;
    let r = http().put(&url).bearer_auth(maya.token.expose()).json(&cfg).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Agents may read but not change them; nonsense is refused.
    let ana = stack.login("ana@demo.handoff.dev").await;
    let r = http().put(&url).bearer_auth(ana.token.expose()).json(&cfg).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::Forbidden);
    let mut bad = cfg.clone();
    bad["low_confidence"]["threshold"] = json!(3);
    let r = http().put(&url).bearer_auth(bot).json(&bad).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (422, ErrorCode::InvalidInput));

    let sb = &stack.sandbox.sandbox;
    sb.customer_says("4911", "K", "I want a refund").await.unwrap();
    bot_answers(&stack, "4911", 1).await;
    sb.customer_says("4911", "K", "shipping?").await.unwrap();
    bot_answers(&stack, "4911", 2).await;
    sb.customer_says("4911", "K", "Quero falar com alguém").await.unwrap();
    let (_, h) = escalation_of(&stack, "4911").await;
    assert_eq!((h.trigger, h.trigger_detail.as_deref()), (HandoffTrigger::CustomerRequest, Some("falar com alguém")));
}

async fn the_handoff_record_keeps_context_and_timeline(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    stack.set_online(ana.token.expose()).await;
    stack.sandbox.sandbox.customer_says("4921", "L", "hello there").await.unwrap();
    bot_answers(&stack, "4921", 1).await;
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", bot).await;
    let id = list[0].id;
    let req = json!({
        "reason": "Order dispute above the bot's limit",
        "priority": "high",
        "summary": "Customer disputes order 4821 (EUR 740)",
        "confidence": 0.41,
        "sentiment": -0.3,
        "workflow": {"workflow_id": "wf-orders", "execution_id": "ex-9001", "node_id": "decide-refund"},
        "skill": "billing",
        "context": {"order_id": "4821", "order_value": 740, "plan": "pro"}
    });
    let r = http()
        .post(format!("{}/v1/conversations/{id}/handoff", stack.url()))
        .bearer_auth(bot)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let bad = http()
        .post(format!("{}/v1/conversations/{id}/handoff", stack.url()))
        .bearer_auth(bot)
        .json(&json!({"reason": "x", "confidence": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 409, "already escalated comes first");
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{id}"), ana.token.expose()).await;
    let h = d.handoffs.last().unwrap();
    assert_eq!((h.confidence, h.sentiment), (Some(0.41), Some(-0.3)));
    assert_eq!(h.workflow.as_ref().unwrap().execution_id.as_deref(), Some("ex-9001"));
    assert_eq!(h.requested_skill.as_deref(), Some("billing"));
    assert_eq!(h.context["order_value"], 740);
    assert!(h.assigned_at.is_some() && h.first_response_at.is_none());
    let r = http()
        .post(format!("{}/v1/conversations/{id}/messages", stack.url()))
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "t1", "text": "Looking into it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    http()
        .post(format!("{}/v1/conversations/{id}/messages", stack.url()))
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "t2", "text": "Done"}))
        .send()
        .await
        .unwrap();
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{id}"), ana.token.expose()).await;
    let first = d.handoffs.last().unwrap().first_response_at.expect("first response recorded");
    let r = http()
        .post(format!("{}/v1/conversations/{id}/resolve", stack.url()))
        .bearer_auth(ana.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{id}"), ana.token.expose()).await;
    let h = d.handoffs.last().unwrap();
    assert_eq!(h.first_response_at, Some(first), "the first response stays the first");
    assert!(h.requested_at <= h.assigned_at.unwrap());
    assert!(h.assigned_at.unwrap() <= first && first <= h.resolved_at.unwrap());
    assert_eq!(h.returned_at, h.resolved_at);
}

async fn batches_limits_and_marketing_preferences(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let secret = "test-app-secret";
    // One POST with 1000 updates across entry[].changes[].
    let changes: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"field": "messages", "value": {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550100", "phone_number_id": handoff_server::seed::DEMO_PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "B"}, "wa_id": format!("4970{:04}", i % 50)}],
                "messages": [{"from": format!("4970{:04}", i % 50), "id": format!("wamid.BATCH{i:04}"), "timestamp": "1700000000",
                              "type": "text", "text": {"body": format!("message {i}")}}]}})
        })
        .collect();
    let body =
        serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]}))
            .unwrap();
    let r = signed_post(&stack, &body, Some(&handoff_whatsapp::sign(secret, &body))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM messages WHERE wamid LIKE 'wamid.BATCH%'").await, 1000);

    // Over 3 MB: refused with a clear code, nothing stored.
    let big = vec![b' '; handoff_server::MAX_WEBHOOK_BYTES + 1];
    let r = signed_post(&stack, &big, Some(&handoff_whatsapp::sign(secret, &big))).await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::PayloadTooLarge);
    assert_eq!(count(&stack, "SELECT COUNT(*) FROM webhook_events WHERE LENGTH(body) > 3000000").await, 0);

    // A customer stops marketing messages, then resumes.
    for (choice, opted_out) in [("stop", true), ("resume", false)] {
        let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "user_preferences", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100", "phone_number_id": handoff_server::seed::DEMO_PHONE_NUMBER_ID},
            "user_preferences": [{"wa_id": "49700001", "detail": "User requested", "category": "marketing_messages",
                                  "value": choice, "timestamp": 1731705721}]}}]}]}))
        .unwrap();
        let r = signed_post(&stack, &body, Some(&handoff_whatsapp::sign(secret, &body))).await;
        assert_eq!(r.status(), 200);
        let attrs: String = sqlx::query("SELECT attributes FROM contacts WHERE wa_id = '49700001'")
            .fetch_one(&stack.server.state.db.pool)
            .await
            .unwrap()
            .get("attributes");
        let attrs: Value = serde_json::from_str(&attrs).unwrap();
        assert_eq!(attrs["marketing_opt_out"], opted_out);
        assert_eq!(attrs["marketing_preference"]["value"], choice);
    }
}
