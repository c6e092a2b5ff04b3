//! Webhook ingest through the group committer, on SQLite and PostgreSQL: many
//! concurrent deliveries (each three times) stored exactly once with the right
//! conversation state; business-scoped (username) senders replied to by `recipient`;
//! a customer's number change linking the old identity to the new; several business
//! numbers in one workspace.

use std::collections::HashMap;

use futures_util::StreamExt;
use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestStack};
use handoff_server::{on_both_backends, Backend};
use handoff_whatsapp::payloads::{self, BusinessNumber};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(concurrent_duplicated_deliveries_are_stored_once);
on_both_backends!(username_senders_are_answered_by_recipient);
on_both_backends!(number_changes_link_identities_and_numbers_keep_their_threads);

const BOT: &str = handoff_server::seed::DEMO_BOT_TOKEN;

fn delivery(number: (&str, &str), from: Value, contact: Value, msg: Value) -> Value {
    let mut m = msg;
    if let Some(f) = from.as_object() {
        m.as_object_mut().unwrap().extend(f.clone());
    }
    let n = BusinessNumber {
        waba_id: handoff_server::seed::DEMO_WABA_ID.into(),
        phone_number_id: number.0.into(),
        display_phone_number: number.1.into(),
    };
    payloads::inbound_message(&n, contact, m)
}

fn demo_number() -> (&'static str, &'static str) {
    (handoff_server::seed::DEMO_PHONE_NUMBER_ID, handoff_server::seed::DEMO_DISPLAY_NUMBER)
}

async fn count(stack: &TestStack, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&stack.server.state.db.pool).await.unwrap().try_get("n").unwrap()
}

async fn concurrent_duplicated_deliveries_are_stored_once(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let now = handoff_server::db::now_ms() / 1000;
    // 40 customers x 5 messages, each delivery sent three times, 48 at once: the
    // committer batches them, duplicates land in the same batch or across batches.
    let mut bodies = Vec::new();
    for c in 0..40 {
        for k in 0..5 {
            let wa = format!("4930{c:06}");
            let msg = json!({ "id": format!("wamid.GC{c:03}{k}"), "timestamp": (now - 10 + k).to_string(),
                              "type": "text", "text": { "body": format!("message {k} of {c}") } });
            let body = delivery(
                demo_number(),
                json!({ "from": wa }),
                json!({ "profile": { "name": format!("Customer {c}") }, "wa_id": wa }),
                msg,
            );
            for _ in 0..3 {
                bodies.push(body.clone());
            }
        }
    }
    // Shuffle deterministically so copies and order interleave.
    let n = bodies.len();
    for i in 0..n {
        bodies.swap(i, (i * 7919 + 13) % n);
    }
    let statuses: Vec<u16> = futures_util::stream::iter(bodies.iter())
        .map(|b| async move { sb.deliver_webhook(b).await.unwrap() })
        .buffer_unordered(48)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM messages WHERE wamid LIKE 'wamid.GC%'").await, 200);
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM contacts WHERE wa_id LIKE '4930%'").await, 40);
    // Each conversation's window starts at its newest inbound message, whatever order
    // the copies came in (the bot's answers move the preview on, so not that).
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", BOT).await;
    assert_eq!(list.iter().filter(|c| c.contact.wa_id.as_deref().is_some_and(|w| w.starts_with("4930"))).count(), 40);
    assert_eq!(
        count(
            &stack,
            "SELECT COUNT(*) AS n FROM conversations c WHERE c.contact_id IN (SELECT id FROM contacts WHERE wa_id LIKE '4930%') \
             AND c.last_inbound_at = (SELECT MAX(sent_at) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound') \
             AND c.last_inbound_at >= (SELECT MAX(sent_at) FROM messages m WHERE m.conversation_id = c.id AND m.wamid LIKE 'wamid.GC%4')"
        )
        .await,
        40
    );
    // The change log names every new message once (what clients pull by cursor).
    assert_eq!(
        count(
            &stack,
            "SELECT COUNT(DISTINCT entity_id) AS n FROM changes WHERE entity = 'message' AND entity_id IN \
             (SELECT id FROM messages WHERE wamid LIKE 'wamid.GC%')"
        )
        .await,
        200
    );
    assert_eq!(
        count(
            &stack,
            "SELECT COUNT(*) AS n FROM changes WHERE entity = 'message' AND entity_id IN \
             (SELECT id FROM messages WHERE wamid LIKE 'wamid.GC%')"
        )
        .await,
        200
    );
    // Every delivery's raw body is kept, copies included.
    assert!(count(&stack, "SELECT COUNT(*) AS n FROM webhook_events").await >= 600);
}

async fn username_senders_are_answered_by_recipient(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let token = ana.token.expose().to_owned();
    stack.set_online(&token).await;
    let bsuid = "US.13491208655302741918";
    let msg = json!({ "id": "wamid.BSUID1", "timestamp": (handoff_server::db::now_ms() / 1000).to_string(),
                      "type": "text", "text": { "body": "I want to talk to a human" } });
    let body = delivery(
        demo_number(),
        json!({ "from_user_id": bsuid }),
        json!({ "profile": { "name": "@lena" }, "user_id": bsuid }),
        msg,
    );
    assert_eq!(sb.deliver_webhook(&body).await.unwrap(), 200);
    let conv: Conversation = eventually(10, "assignment", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", &token).await;
        l.into_iter().find(|c| c.state == ConversationState::Assigned)
    })
    .await;
    assert_eq!((conv.contact.wa_id.as_deref(), conv.contact.bsuid.as_deref()), (None, Some(bsuid)));
    let r = reqwest::Client::new()
        .post(format!("{}/v1/conversations/{}/messages", stack.url(), conv.id))
        .bearer_auth(&token)
        .json(&json!({ "client_id": "b1", "text": "Hi Lena, Ana here." }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let call = eventually(10, "the reply at the Graph API", || async {
        sb.sent().await.into_iter().find(|s| s.body["text"]["body"] == "Hi Lena, Ana here.")
    })
    .await;
    assert_eq!(call.body["recipient"], bsuid);
    assert!(call.body.get("to").is_none(), "no phone number to send to");
    // When the phone number shows up later, it is linked to the same contact.
    let msg = json!({ "id": "wamid.BSUID2", "timestamp": (handoff_server::db::now_ms() / 1000).to_string(),
                      "type": "text", "text": { "body": "thanks" } });
    let body = delivery(
        demo_number(),
        json!({ "from": "4915777000111", "from_user_id": bsuid }),
        json!({ "profile": { "name": "Lena" }, "wa_id": "4915777000111", "user_id": bsuid }),
        msg,
    );
    assert_eq!(sb.deliver_webhook(&body).await.unwrap(), 200);
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{}", conv.id), &token).await;
    assert_eq!(d.conversation.contact.wa_id.as_deref(), Some("4915777000111"));
    assert_eq!(d.messages.iter().filter(|m| m.author == Author::Customer).count(), 2, "one thread");
}

async fn number_changes_link_identities_and_numbers_keep_their_threads(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let now = handoff_server::db::now_ms() / 1000;
    let old = "972987654321";
    let text = |id: &str, body: &str| json!({ "id": id, "timestamp": now.to_string(), "type": "text", "text": { "body": body } });
    let contact = |wa: &str| json!({ "profile": { "name": "Noa" }, "wa_id": wa });
    sb.deliver_webhook(&delivery(demo_number(), json!({"from": old}), contact(old), text("wamid.NC1", "hello")))
        .await
        .unwrap();
    // The pywa fixture's shape.
    let system = json!({ "id": "wamid.NC2", "timestamp": now.to_string(), "type": "system",
        "system": { "body": "User A changed from 972987654321 to 972912345678", "wa_id": "972912345678", "type": "user_changed_number" } });
    for _ in 0..2 {
        assert_eq!(
            sb.deliver_webhook(&delivery(demo_number(), json!({"from": old}), contact(old), system.clone()))
                .await
                .unwrap(),
            200
        );
    }
    let row = sqlx::query("SELECT id, wa_id, attributes FROM contacts WHERE wa_id = '972912345678'")
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap();
    let attrs: Value = serde_json::from_str(&row.try_get::<String, _>("attributes").unwrap()).unwrap();
    assert_eq!(attrs["previous_wa_ids"], json!([old]), "applied once, old number kept");
    // The new number writes into the same thread.
    sb.deliver_webhook(&delivery(
        demo_number(),
        json!({"from": "972912345678"}),
        contact("972912345678"),
        text("wamid.NC3", "new phone"),
    ))
    .await
    .unwrap();
    let convs = count(
        &stack,
        "SELECT COUNT(*) AS n FROM conversations WHERE contact_id IN (SELECT id FROM contacts WHERE name = 'Noa')",
    )
    .await;
    assert_eq!(convs, 1, "a redelivered old message creates no contact for the old number");
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM contacts WHERE name = 'Noa'").await, 1);

    // A second business number of the same workspace: its own conversation with the
    // same customer, routed on metadata.phone_number_id.
    let second = ("100000000000002", "+1 555 0100 002");
    sb.deliver_webhook(&delivery(
        second,
        json!({"from": "972912345678"}),
        contact("972912345678"),
        text("wamid.NC4", "other line"),
    ))
    .await
    .unwrap();
    let rows = sqlx::query(
        "SELECT ch.phone_number_id AS number, COUNT(m.id) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         JOIN channels ch ON ch.id = c.channel_id WHERE m.wamid LIKE 'wamid.NC%' GROUP BY ch.phone_number_id",
    )
    .fetch_all(&stack.server.state.db.pool)
    .await
    .unwrap();
    let per: HashMap<String, i64> = rows.iter().map(|r| (r.get("number"), r.get("n"))).collect();
    assert_eq!(per.get(demo_number().0), Some(&3));
    assert_eq!(per.get(second.0), Some(&1));
}

on_both_backends!(numbers_belong_to_one_workspace_and_unrouted_webhooks_wait_for_registration);

/// With two workspaces, a webhook for a number nobody registered cannot be given to
/// either: it is answered 200, kept, shown to nobody, and replayed into the workspace
/// whose admin registers the number. A number belongs to one workspace only.
async fn numbers_belong_to_one_workspace_and_unrouted_webhooks_wait_for_registration(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let http = reqwest::Client::new();
    let pool = &stack.server.state.db.pool;
    let globex = {
        let mut tx = stack.server.state.db.begin_write().await.unwrap();
        let ws = handoff_server::seed::create_workspace(&mut tx, "Globex").await.unwrap();
        handoff_server::seed::add_agent(
            &mut tx,
            ws,
            "gus@globex.test",
            "Gus Admin",
            "admin",
            SecretString::new("globex-pass"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        ws
    };
    let number = ("100000000000777", "+1 555 0100 777");
    let now = handoff_server::db::now_ms() / 1000;
    for k in 0..3 {
        let body = delivery(
            number,
            json!({ "from": "4977700" }),
            json!({ "profile": { "name": "Hana" }, "wa_id": "4977700" }),
            json!({ "id": format!("wamid.UNROUTED{k}"), "timestamp": (now + k).to_string(), "type": "text",
                    "text": { "body": format!("hello {k}") } }),
        );
        assert_eq!(sb.deliver_webhook(&body).await.unwrap(), 200, "answered, so Meta does not retry forever");
    }
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM messages WHERE wamid LIKE 'wamid.UNROUTED%'").await, 0);
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM channels WHERE phone_number_id = '100000000000777'").await, 0);
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM unrouted_webhooks WHERE replayed_at IS NULL").await, 3);

    let login = |email: &'static str, password: &'static str| {
        let http = http.clone();
        let url = stack.url();
        async move {
            let r = http
                .post(format!("{url}/v1/auth/login"))
                .json(&json!({ "email": email, "password": password }))
                .send()
                .await
                .unwrap();
            r.json::<LoginResponse>().await.unwrap().token.expose().to_owned()
        }
    };
    let gus = login("gus@globex.test", "globex-pass").await;
    let ana = stack.login("ana@demo.handoff.dev").await.token.expose().to_owned();
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let register = |token: String, id: &'static str| {
        http.post(format!("{}/v1/numbers", stack.url()))
            .bearer_auth(token)
            .json(&json!({ "phone_number_id": id, "display_phone_number": "+1 555 0100 777" }))
            .send()
    };
    // Agents may not; a bad id is refused before anything is stored.
    let r = register(ana.clone(), "100000000000777").await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::Forbidden);
    let r = register(gus.clone(), "not-a-number").await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::InvalidInput);

    // Globex's admin registers it: the three messages arrive in Globex, once.
    let r = register(gus.clone(), "100000000000777").await.unwrap();
    assert_eq!(r.status(), 201);
    let info: BusinessNumberInfo = r.json().await.unwrap();
    assert_eq!(info.display_phone_number, "+1 555 0100 777");
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM messages WHERE wamid LIKE 'wamid.UNROUTED%'").await, 3);
    // (The thread is in nobody's inbox until it is handed off: read the store.)
    let r = sqlx::query(
        "SELECT c.id, c.workspace_id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = '4977700'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(r.try_get::<i64, _>("workspace_id").unwrap(), globex);
    let hana_id: i64 = r.try_get("id").unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let messages = handoff_server::store::messages_of(&mut conn, &[hana_id]).await.unwrap();
    drop(conn);
    let texts: Vec<_> =
        messages.iter().filter(|m| m.direction == Direction::Inbound).filter_map(|m| m.text.clone()).collect();
    assert_eq!(texts, ["hello 0", "hello 1", "hello 2"]);
    assert_eq!(count(&stack, "SELECT COUNT(*) AS n FROM unrouted_webhooks WHERE replayed_at IS NULL").await, 0);

    // Registering again is a no-op; Acme's admin cannot take it; Acme sees nothing.
    assert_eq!(register(gus.clone(), "100000000000777").await.unwrap().status(), 200);
    let r = register(omar.clone(), "100000000000777").await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::Conflict);
    let r = http.get(format!("{}/v1/conversations/{hana_id}", stack.url())).bearer_auth(&omar).send().await.unwrap();
    assert_eq!(r.status(), 404, "another workspace's thread does not exist for Acme");
    let acme_numbers: Vec<BusinessNumberInfo> = stack.get_json("/v1/numbers", &omar).await;
    let globex_numbers: Vec<BusinessNumberInfo> = stack.get_json("/v1/numbers", &gus).await;
    assert_eq!(
        acme_numbers.iter().map(|n| n.phone_number_id.as_str()).collect::<Vec<_>>(),
        [handoff_server::seed::DEMO_PHONE_NUMBER_ID]
    );
    assert_eq!(globex_numbers.iter().map(|n| n.phone_number_id.as_str()).collect::<Vec<_>>(), ["100000000000777"]);

    // Later webhooks go straight to Globex.
    let body = delivery(
        number,
        json!({ "from": "4977700" }),
        json!({ "profile": { "name": "Hana" }, "wa_id": "4977700" }),
        json!({ "id": "wamid.ROUTED", "timestamp": (now + 9).to_string(), "type": "text", "text": { "body": "still there?" } }),
    );
    assert_eq!(sb.deliver_webhook(&body).await.unwrap(), 200);
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE conversation_id = $1 AND direction = 'inbound'")
        .bind(hana_id)
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(n, 4);
}
