//! External automations and the handoff settings, over real HTTP on both backends:
//! an automation owns a conversation until a person takes it, is paused meanwhile,
//! gets the transcript back, and is told nothing it should not be.

use handoff_protocol::*;
use handoff_server::testkit::{eventually, HookReceiver, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};

on_both_backends!(
    an_external_automation_owns_the_thread_until_a_person_takes_it,
    queue_timeout_returns_the_conversation_to_automation,
    after_hours_acknowledgement,
    leads_move_into_whatsapp_with_their_context,
    rules_on_context_fields_the_automation_reports,
);

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn business_lines(stack: &TestStack, wa_id: &str) -> Vec<String> {
    stack.sandbox.sandbox.transcript(wa_id).await.into_iter().filter(|l| l.from == "business").map(|l| l.text).collect()
}

fn created_for(rx: &HookReceiver, text: &str) -> Option<Value> {
    rx.all()
        .into_iter()
        .map(|r| r.json())
        .find(|e| e["type"] == "message.created" && e["data"]["message"]["text"] == text)
}

async fn an_external_automation_owns_the_thread_until_a_person_takes_it(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let rx = HookReceiver::start().await;
    let maya = stack.login("maya@demo.handoff.dev").await;
    let r = http()
        .post(format!("{}/v1/automations", stack.url()))
        .bearer_auth(maya.token.expose())
        .json(&json!({"name": "LLM agent", "webhook_url": rx.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let auto: Value = r.json().await.unwrap();
    let (token, secret) = (auto["token"].as_str().unwrap().to_owned(), auto["secret"].as_str().unwrap().to_owned());
    let sb = &stack.sandbox.sandbox;
    const WA: &str = "4951";

    // It receives the customer's message, signed; the built-in bot stays quiet.
    sb.customer_says(WA, "Ines", "Where is my order?").await.unwrap();
    let ev =
        eventually(10, "message.created at the automation", || async { created_for(&rx, "Where is my order?") }).await;
    let conv_id = ev["data"]["conversation_id"].as_i64().unwrap();
    let first = &rx.all()[0];
    let ts: i64 = first.header("webhook-timestamp").parse().unwrap();
    assert_eq!(
        first.header("webhook-signature"),
        handoff_server::hooks::sign(&secret, first.header("webhook-id"), ts, &first.body).unwrap()
    );
    assert!(business_lines(&stack, WA).await.is_empty(), "the built-in bot does not answer for an external automation");

    // It answers with confidence: sent.
    let send = |body: Value| {
        let (url, token) = (format!("{}/v1/conversations/{conv_id}/bot-messages", stack.url()), token.clone());
        async move { http().post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let wf = json!({"workflow_id": "support-agent", "execution_id": "run-1", "node_id": "answer"});
    let r = send(json!({"text": "It ships tomorrow.", "confidence": 0.93, "workflow": wf})).await;
    assert_eq!(r.status(), 201);
    eventually(10, "the bot's answer on WhatsApp", || async {
        business_lines(&stack, WA).await.contains(&"It ships tomorrow.".to_owned()).then_some(())
    })
    .await;

    // Unsure: the answer is withheld and the conversation handed to people.
    sb.customer_says(WA, "Ines", "The tracking says delivered but I have nothing").await.unwrap();
    eventually(10, "the second message", || async {
        created_for(&rx, "The tracking says delivered but I have nothing")
    })
    .await;
    let r = send(json!({"text": "Maybe check with a neighbour?", "confidence": 0.35, "workflow": wf})).await;
    assert_eq!(r.status(), 200);
    let res: Value = r.json().await.unwrap();
    assert!(res["message"].is_null());
    let h: Handoff = serde_json::from_value(res["handoff"].clone()).unwrap();
    assert_eq!((h.trigger, h.confidence), (HandoffTrigger::LowConfidence, Some(0.35)));
    assert_eq!(h.context["withheld_bot_reply"], "Maybe check with a neighbour?");
    assert_eq!(h.workflow.as_ref().unwrap().node_id.as_deref(), Some("answer"));
    assert_eq!(h.requested_by, "api:LLM agent");
    eventually(10, "the acknowledgement", || async {
        business_lines(&stack, WA).await.iter().any(|t| t.contains("A person will reply here shortly")).then_some(())
    })
    .await;
    assert!(
        !business_lines(&stack, WA).await.iter().any(|t| t.contains("neighbour")),
        "the doubtful answer was not sent"
    );

    // Paused: its sends are refused, and it is not sent the customer's messages.
    let r = send(json!({"text": "Hello again"})).await;
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (409, ErrorCode::AutomationPaused));
    sb.customer_says(WA, "Ines", "Hello?? anyone?").await.unwrap();
    let status: Value = eventually(10, "the workflow status", || async {
        let v: Value = stack.get_json("/v1/workflows/status", &token).await;
        (v["executions"]["handoff"] == 1).then_some(v)
    })
    .await;
    assert_eq!(status["conversations"]["handoff"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(created_for(&rx, "Hello?? anyone?").is_none(), "no customer message reaches a paused automation");

    // A person takes it, answers and resolves: the automation gets the transcript back.
    let ana = stack.login("ana@demo.handoff.dev").await;
    stack.set_online(ana.token.expose()).await;
    let r = http()
        .post(format!("{}/v1/conversations/{conv_id}/messages", stack.url()))
        .bearer_auth(ana.token.expose())
        .json(&json!({"client_id": "p1", "text": "Hi Ines, I've opened a claim with the carrier."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http()
        .post(format!("{}/v1/conversations/{conv_id}/resolve", stack.url()))
        .bearer_auth(ana.token.expose())
        .json(&json!({"note": "Carrier claim #C-77 opened; refund if not found in 5 days"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let back = eventually(10, "the hand-back", || async {
        rx.all().into_iter().map(|r| r.json()).find(|e| e["type"] == "conversation.returned_to_automation")
    })
    .await;
    assert_eq!(back["data"]["resolution_note"], "Carrier claim #C-77 opened; refund if not found in 5 days");
    let texts: Vec<String> = back["data"]["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        texts.contains(&"Hello?? anyone?".to_owned())
            && texts.contains(&"Hi Ines, I've opened a claim with the carrier.".to_owned()),
        "{texts:?}"
    );
    let v: Value = stack.get_json("/v1/workflows/status", &token).await;
    assert_eq!(v["executions"]["resolved"], 1);

    // Automation again: it receives messages and may send; two fallbacks in a row hand off.
    sb.customer_says(WA, "Ines", "thanks! one more question").await.unwrap();
    eventually(10, "messages flow to the automation again", || async { created_for(&rx, "thanks! one more question") })
        .await;
    assert_eq!(send(json!({"text": "Sorry, I did not get that.", "fallback": true})).await.status(), 201);
    let r = send(json!({"text": "Sorry, I still did not get that.", "fallback": true})).await;
    let res: Value = r.json().await.unwrap();
    assert_eq!(res["handoff"]["trigger"], "repeated_failure");

    // Removing it revokes its token and the built-in bot answers again.
    let list: Value = stack.get_json("/v1/automations", maya.token.expose()).await;
    assert_eq!(list[0]["active"], true);
    let r = http()
        .delete(format!("{}/v1/automations/{}", stack.url(), auto["id"]))
        .bearer_auth(maya.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = send(json!({"text": "still here?"})).await;
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::TokenRevoked);
    sb.customer_says("4952", "Olu", "What are your opening hours?").await.unwrap();
    eventually(10, "the built-in bot", || async {
        business_lines(&stack, "4952").await.iter().any(|t| t.contains("Monday to Friday")).then_some(())
    })
    .await;
}

async fn queue_timeout_returns_the_conversation_to_automation(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let maya = stack.login("maya@demo.handoff.dev").await;
    let url = format!("{}/v1/settings/handoff", stack.url());
    let mut s: Value = http().get(&url).bearer_auth(maya.token.expose()).send().await.unwrap().json().await.unwrap();
    s["queue_timeout_secs"] = json!(1);
    s["timeout_message"] = json!("Nobody is free right now; I'll keep helping.");
    let r = http().put(&url).bearer_auth(maya.token.expose()).json(&s).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s["queue_timeout_secs"] = json!(0);
    let r = http().put(&url).bearer_auth(maya.token.expose()).json(&s).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);

    let sb = &stack.sandbox.sandbox;
    sb.customer_says("4961", "Tom", "I want to talk to a human").await.unwrap();
    eventually(15, "the timeout message", || async {
        business_lines(&stack, "4961")
            .await
            .iter()
            .any(|t| t == "Nobody is free right now; I'll keep helping.")
            .then_some(())
    })
    .await;
    let lines = business_lines(&stack, "4961").await;
    assert!(lines[0].contains("A person will reply here shortly"), "{lines:?}");
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", handoff_server::seed::DEMO_BOT_TOKEN).await;
    let d: ConversationDetail =
        stack.get_json(&format!("/v1/conversations/{}", list[0].id), handoff_server::seed::DEMO_BOT_TOKEN).await;
    assert_eq!(d.conversation.state, ConversationState::Automation);
    assert_eq!(d.handoffs[0].status, HandoffStatus::TimedOut);
    assert!(d.handoffs[0].returned_at.is_some());
    // And automation answers again.
    sb.customer_says("4961", "Tom", "ok, what are your opening hours then").await.unwrap();
    eventually(10, "the bot", || async {
        business_lines(&stack, "4961").await.iter().any(|t| t.contains("Monday to Friday")).then_some(())
    })
    .await;
}

async fn after_hours_acknowledgement(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let url = format!("{}/v1/settings/handoff", stack.url());
    let r = http()
        .put(&url)
        .bearer_auth(bot)
        .json(&json!({"business_hours": {"utc_offset_minutes": 0, "days": {}}, "after_hours_message": "We're closed; back at 9."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bad = json!({"business_hours": {"days": {"mon": ["18:00", "09:00"]}}});
    let r = http().put(&url).bearer_auth(bot).json(&bad).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);
    stack.sandbox.sandbox.customer_says("4971", "Mo", "agent please").await.unwrap();
    eventually(10, "the after-hours text", || async {
        business_lines(&stack, "4971").await.iter().any(|t| t == "We're closed; back at 9.").then_some(())
    })
    .await;
}

async fn leads_move_into_whatsapp_with_their_context(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let post = |body: Value| {
        let url = format!("{}/v1/leads/handoff", stack.url());
        async move { http().post(url).bearer_auth(bot).json(&body).send().await.unwrap() }
    };
    let mut lead = json!({
        "lead_id": "IG-4471", "name": "Sam Lee", "phone": "+1 (415) 555-0199", "source_channel": "instagram",
        "fields": {"plan": "Pro", "seats": 12, "budget": "EUR 5000"},
        "transcript": [{"from": "lead", "text": "Do you do volume discounts?"}, {"from": "bot", "text": "Yes, from 10 seats."}],
    });
    // No opt-in: refused, nothing created.
    let r = post(lead.clone()).await;
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (422, ErrorCode::OptInRequired));
    lead["opt_in"] =
        json!({"recorded_at": "2026-11-23T10:01:00Z", "source": "instagram_dm", "text": "Yes, WhatsApp me"});
    let mut bad = lead.clone();
    bad["phone"] = json!("call me maybe");
    assert_eq!(post(bad).await.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);
    // Never wrote on WhatsApp: the window is closed, a template is needed.
    let r = post(lead.clone()).await;
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (409, ErrorCode::WindowClosed));
    lead["template"] = json!({"name": "lead_followup", "language": "en_US", "parameters": ["{name}", "{fields.plan}"]});
    let r = post(lead.clone()).await;
    assert_eq!(r.status(), 201);
    let res: Value = r.json().await.unwrap();
    let h: Handoff = serde_json::from_value(res["handoff"].clone()).unwrap();
    assert_eq!((h.trigger, h.trigger_detail.as_deref()), (HandoffTrigger::Lead, Some("instagram")));
    assert_eq!(h.context["upstream_transcript"][0]["text"], "Do you do volume discounts?");
    assert_eq!(h.context["seats"], 12);
    let conv: Conversation = serde_json::from_value(res["conversation"].clone()).unwrap();
    assert_eq!(conv.contact.wa_id.as_deref(), Some("14155550199"));
    assert_eq!(conv.contact.attributes["lead_id"], "IG-4471");
    assert_eq!(conv.state, ConversationState::Waiting);
    let sent = eventually(10, "the template at the Graph API", || async {
        stack.sandbox.sandbox.sent().await.into_iter().find(|s| s.body["type"] == "template")
    })
    .await;
    assert_eq!(
        sent.body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155550199", "type": "template",
               "biz_opaque_callback_data": format!("handoff:{}", res["message"]["id"]),
               "template": {"name": "lead_followup", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": [
                   {"type": "text", "text": "Sam Lee"}, {"type": "text", "text": "Pro"}]}]}})
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(stack.sandbox.sandbox.sent().await.len(), 1, "no free-form acknowledgement into a closed window");

    // An agent cannot write free-form until the lead answers.
    let ana = stack.login("ana@demo.handoff.dev").await;
    stack.set_online(ana.token.expose()).await;
    let reply = |id: String| {
        let url = format!("{}/v1/conversations/{}/messages", stack.url(), conv.id);
        let token = ana.token.expose().to_owned();
        async move {
            http().post(url).bearer_auth(token).json(&json!({"client_id": id, "text": "Hi Sam!"})).send().await.unwrap()
        }
    };
    let r = reply("l1".into()).await;
    assert_eq!((r.status().as_u16(), r.json::<ApiError>().await.unwrap().code), (409, ErrorCode::WindowClosed));
    stack.sandbox.sandbox.customer_says("14155550199", "Sam", "Yes, tell me more").await.unwrap();
    eventually(10, "the window to open", || async {
        let r = reply("l2".into()).await;
        (r.status() == 201).then_some(())
    })
    .await;

    // Window open: the same person, another lead, a session message, the same thread.
    let mut second = lead.clone();
    second["lead_id"] = json!("WEB-88");
    second["source_channel"] = json!("web_form");
    second["message"] = json!("Hi {name}, thanks for the form about {fields.plan}!");
    second.as_object_mut().unwrap().remove("template");
    let r = http()
        .post(format!("{}/v1/conversations/{}/resolve", stack.url(), conv.id))
        .bearer_auth(ana.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = post(second).await;
    assert_eq!(r.status(), 201);
    let res: Value = r.json().await.unwrap();
    assert_eq!(res["conversation"]["id"], json!(conv.id), "the thread is reused");
    assert_eq!(res["message"]["text"], "Hi Sam Lee, thanks for the form about Pro!");
    assert_eq!(res["conversation"]["contact"]["attributes"]["lead_id"], "WEB-88");
}

async fn rules_on_context_fields_the_automation_reports(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let rx = HookReceiver::start().await;
    let bot = handoff_server::seed::DEMO_BOT_TOKEN;
    let r = http()
        .post(format!("{}/v1/automations", stack.url()))
        .bearer_auth(bot)
        .json(&json!({"name": "orders-flow", "webhook_url": rx.url}))
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let url = format!("{}/v1/settings/triggers", stack.url());
    let mut cfg: Value = http().get(&url).bearer_auth(bot).send().await.unwrap().json().await.unwrap();
    cfg["contact_rules"] =
        json!([{"name": "High-value order", "field": "order_value", "op": "gt", "value": 500, "priority": "high"}]);
    assert_eq!(http().put(&url).bearer_auth(bot).json(&cfg).send().await.unwrap().status(), 200);

    stack.sandbox.sandbox.customer_says("4981", "Ada", "Can I change my order?").await.unwrap();
    let ev =
        eventually(10, "the message at the automation", || async { created_for(&rx, "Can I change my order?") }).await;
    let conv_id = ev["data"]["conversation_id"].as_i64().unwrap();
    let send = |body: Value| {
        let (url, token) = (format!("{}/v1/conversations/{conv_id}/bot-messages", stack.url()), token.clone());
        async move { http().post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let r = send(json!({"text": "Sure, which item?", "confidence": 0.9, "context": {"order_value": 120}})).await;
    assert_eq!(r.status(), 201, "a small order stays with the bot");
    let r = send(json!({"text": "Done, I changed it.", "confidence": 0.9, "context": {"order_value": "740.00", "order_id": "A-77"}})).await;
    assert_eq!(r.status(), 200);
    let h: Handoff = serde_json::from_value(r.json::<Value>().await.unwrap()["handoff"].clone()).unwrap();
    assert_eq!(
        (h.trigger, h.trigger_detail.as_deref(), h.priority),
        (HandoffTrigger::ContactRule, Some("High-value order"), Priority::High)
    );
    assert_eq!(h.context["order_id"], "A-77");
    assert_eq!(h.context["withheld_bot_reply"], "Done, I changed it.");
}

/// Under a backlog, a customer asking for a person goes before other customers' FAQ
/// questions (all of that conversation's waiting messages, in order).
#[tokio::test]
async fn an_escalation_skips_the_bots_backlog() {
    let stack = handoff_server::testkit::TestStack::start_with(handoff_server::Backend::Sqlite, |c| {
        c.background_workers = false;
        c.escalate_at_ingest = false;
    })
    .await;
    let sandbox = &stack.sandbox.sandbox;
    for i in 0..150 {
        sandbox.customer_says(&format!("4917700{i:04}"), "Asker", "What are your opening hours?").await.unwrap();
    }
    sandbox.customer_says("4917799999", "Impatient", "hello?").await.unwrap();
    sandbox.customer_says("4917799999", "Impatient", "I want to talk to a human").await.unwrap();
    let pool = &stack.server.state.db.pool;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id \
         WHERE k.wa_id = '4917799999' ORDER BY m.id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    let next = handoff_server::engine::next_for_automation(&stack.server.state).await.unwrap();
    assert_eq!(next.len(), 100, "one pass");
    assert_eq!(next[..2], ids[..], "the escalating conversation first, its messages in order");
    let mut rest = next[2..].to_vec();
    rest.sort();
    assert_eq!(rest, next[2..], "the others keep their arrival order");
}

/// A customer who asks for a person is handed off as the message is stored: the bot's
/// backlog (here it never drains: the workers are off) does not stand in the way, and
/// the customer's earlier message, handled later, leaves the thread with people.
#[tokio::test]
async fn an_escalation_is_handed_off_as_it_is_stored() {
    let stack = handoff_server::testkit::TestStack::start_with(handoff_server::Backend::Sqlite, |c| {
        c.background_workers = false
    })
    .await;
    let sandbox = &stack.sandbox.sandbox;
    for i in 0..50 {
        sandbox.customer_says(&format!("4917800{i:04}"), "Asker", "What are your opening hours?").await.unwrap();
    }
    sandbox.customer_says("4917899999", "Impatient", "hello?").await.unwrap();
    sandbox.customer_says("4917899999", "Impatient", "I want to talk to a human").await.unwrap();
    let pool = &stack.server.state.db.pool;
    handoff_server::testkit::eventually(10, "the handoff", || async {
        let state: String = sqlx::query_scalar(
            "SELECT c.state FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = '4917899999'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        (state == "waiting").then_some(())
    })
    .await;
    let backlog: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'inbound' AND processed_at IS NULL")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(backlog, 51, "the 50 questions and the impatient customer's 'hello?' still wait for the bot");
    let next = handoff_server::engine::next_for_automation(&stack.server.state).await.unwrap();
    assert_eq!(next.len(), 51, "only the escalation was taken out of the queue, once");
}
