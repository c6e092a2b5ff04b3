//! Collaboration on SQLite and PostgreSQL: internal notes that never reach the
//! customer, @mentions that notify and open the conversation to the colleague,
//! labels, and canned responses with variables and per-team scope.

use std::time::Duration;

use futures_util::StreamExt;
use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestApi, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sqlx::Row;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

on_both_backends!(notes_mentions_labels_and_canned_responses);

async fn notes_mentions_labels_and_canned_responses(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let sb = &stack.sandbox.sandbox;
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let maya = stack.login("maya@demo.handoff.dev").await.token.expose().to_owned();
    let ana = stack.login("ana@demo.handoff.dev").await;
    let ana_t = ana.token.expose().to_owned();
    api.ok("PUT", "/v1/me/availability", &ana_t, Some(json!({ "availability": "online" }))).await;
    // Olga works in another team: she cannot see Ana's conversation until mentioned.
    let (olga, olga_t) = stack.add_agent(1, "olga.k@demo.test", "Olga Kim", "agent").await;
    let teams: Vec<Team> = stack.get_json("/v1/teams", &omar).await;
    let default = teams.iter().find(|t| t.is_default).unwrap().clone();
    let rest: Vec<i64> = default.member_ids.iter().map(|a| a.0).filter(|a| *a != olga).collect();
    api.ok("PATCH", &format!("/v1/teams/{}", default.id), &omar, Some(json!({ "member_ids": rest }))).await;
    api.ok("POST", "/v1/teams", &omar, Some(json!({ "name": "Returns", "member_ids": [olga] }))).await;
    let (_, viewer) = stack.add_agent(1, "vic@demo.test", "Vic Viewer", "viewer").await;

    let (conv, owner) = api.escalate("488000", json!({})).await;
    assert_eq!(owner, Some(ana.agent.id.0));
    let note_path = format!("/v1/conversations/{conv}/notes");
    let (status, _) = api.call("GET", &format!("/v1/conversations/{conv}"), &olga_t, None).await;
    assert_eq!(status, 404, "not Olga's conversation yet");

    let mut req = format!("ws://{}/v1/events", stack.server.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {olga_t}").parse().unwrap());
    let (mut olga_ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    // Ana writes a note mentioning Olga (and an email address, which is no mention).
    let body = json!({ "text": "@olga.k can you confirm the return label? (customer wrote to help@acme.com)", "client_id": "n1" });
    let note: Message = serde_json::from_value(api.ok("POST", &note_path, &ana_t, Some(body.clone())).await).unwrap();
    assert_eq!((note.direction, note.author, note.agent_id), (Direction::Note, Author::Agent, Some(ana.agent.id)));
    // The same client_id again: the same note.
    let again: Message = serde_json::from_value(api.ok("POST", &note_path, &ana_t, Some(body)).await).unwrap();
    assert_eq!(again.id, note.id);

    let mentioned = loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), olga_ws.next()).await.unwrap().unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            if let ServerEvent::Mentioned { .. } = serde_json::from_str::<ServerEvent>(&t).unwrap() {
                break serde_json::from_str::<ServerEvent>(&t).unwrap();
            }
        }
    };
    assert_eq!(
        mentioned,
        ServerEvent::Mentioned {
            conversation_id: ConversationId(conv),
            message_id: note.id,
            by_name: "Ana Alvarez".into()
        }
    );
    let mentions: Vec<Mention> = stack.get_json("/v1/me/mentions", &olga_t).await;
    assert_eq!(mentions.len(), 1);
    assert_eq!((mentions[0].by, mentions[0].read_at), (ana.agent.id, None));
    api.ok("POST", &format!("/v1/me/mentions/{}/read", mentions[0].id), &olga_t, None).await;
    let mentions: Vec<Mention> = stack.get_json("/v1/me/mentions", &olga_t).await;
    assert!(mentions[0].read_at.is_some());
    // Olga now sees the whole thread, note included.
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{conv}"), &olga_t).await;
    assert!(d.messages.iter().any(|m| m.id == note.id));
    assert!(d.messages.iter().any(|m| m.direction == Direction::Inbound));
    let sync: SyncResponse = stack.get_json("/v1/sync?cursor=0", &olga_t).await;
    assert!(sync.conversations.iter().any(|c| c.id.0 == conv));

    // The note never reaches WhatsApp (while Ana's reply does), nor automation.
    api.ok(
        "POST",
        &format!("/v1/conversations/{conv}/messages"),
        &ana_t,
        Some(json!({ "client_id": "r1", "text": "Checking now" })),
    )
    .await;
    eventually(10, "Ana's reply sent", || async {
        sb.sent().await.iter().any(|s| s.body["text"]["body"] == "Checking now").then_some(())
    })
    .await;
    assert!(sb.sent().await.iter().all(|s| !s.body.to_string().contains("return label")));
    assert!(sb.transcript("488000").await.iter().all(|l| !l.text.contains("return label")));
    let processed: Option<i64> = sqlx::query("SELECT processed_at FROM messages WHERE id = $1")
        .bind(note.id.0)
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .get("processed_at");
    assert!(processed.is_some());
    // Viewers read, they do not write.
    let (status, err) = api.call("POST", &note_path, &viewer, Some(json!({ "text": "hi" }))).await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = api.call("POST", &note_path, &ana_t, Some(json!({ "text": "  " }))).await;
    assert_eq!(status, 422);

    // Labels: de-duplicated without regard to case, shown on the conversation.
    let c = api
        .ok("PUT", &format!("/v1/conversations/{conv}/labels"), &ana_t, Some(json!(["Billing", "vip", "billing "])))
        .await;
    assert_eq!(c["labels"], json!(["Billing", "vip"]));
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", &maya).await;
    assert_eq!(list.iter().find(|c| c.id.0 == conv).unwrap().labels, ["Billing", "vip"]);
    let (status, _) = api.call("PUT", &format!("/v1/conversations/{conv}/labels"), &viewer, Some(json!(["x"]))).await;
    assert_eq!(status, 403);

    // Canned responses: admins write the workspace's, managers their teams'.
    let hello = json!({ "shortcut": "/hello", "title": "Greeting",
                        "body": "Hi {{contact.first_name}}, this is {{agent.first_name}}. Order {{contact.order_id}}?" });
    let (status, _) = api.call("POST", "/v1/canned-responses", &maya, Some(hello.clone())).await;
    assert_eq!(status, 403, "managers do not write workspace responses");
    let (status, _) = api.call("POST", "/v1/canned-responses", &ana_t, Some(hello.clone())).await;
    assert_eq!(status, 403);
    let hello: CannedResponse =
        serde_json::from_value(api.ok("POST", "/v1/canned-responses", &omar, Some(hello)).await).unwrap();
    assert_eq!(hello.shortcut, "hello");
    let team_reply = json!({ "team_id": default.id, "shortcut": "refund", "title": "Refund", "body": "Your refund is on its way, {{contact.name}}." });
    api.ok("POST", "/v1/canned-responses", &maya, Some(team_reply)).await;
    let ana_sees: Vec<CannedResponse> = stack.get_json("/v1/canned-responses", &ana_t).await;
    assert_eq!(ana_sees.iter().map(|c| c.shortcut.as_str()).collect::<Vec<_>>(), ["hello", "refund"]);
    let olga_sees: Vec<CannedResponse> = stack.get_json("/v1/canned-responses", &olga_t).await;
    assert_eq!(olga_sees.iter().map(|c| c.shortcut.as_str()).collect::<Vec<_>>(), ["hello"], "not another team's");
    let r: RenderedResponse = serde_json::from_value(
        api.ok(
            "POST",
            &format!("/v1/canned-responses/{}/render", hello.id),
            &ana_t,
            Some(json!({ "conversation_id": conv })),
        )
        .await,
    )
    .unwrap();
    assert_eq!(r.text, "Hi Customer, this is Ana. Order ?");
    assert_eq!(r.missing, ["contact.order_id"]);
    let v: Value = api
        .ok(
            "PATCH",
            &format!("/v1/canned-responses/{}", hello.id),
            &omar,
            Some(json!({ "body": "Hello {{contact.phone}}" })),
        )
        .await;
    assert_eq!(v["body"], "Hello {{contact.phone}}");
    let r: RenderedResponse = serde_json::from_value(
        api.ok(
            "POST",
            &format!("/v1/canned-responses/{}/render", hello.id),
            &ana_t,
            Some(json!({ "conversation_id": conv })),
        )
        .await,
    )
    .unwrap();
    assert_eq!(r.text, "Hello +488000");
    api.ok("DELETE", &format!("/v1/canned-responses/{}", hello.id), &omar, None).await;
    let ana_sees: Vec<CannedResponse> = stack.get_json("/v1/canned-responses", &ana_t).await;
    assert_eq!(ana_sees.len(), 1);
}
