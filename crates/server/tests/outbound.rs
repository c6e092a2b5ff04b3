//! What agents send besides plain text, end to end over real HTTP on SQLite and
//! PostgreSQL, checked in the (sandboxed) Graph API's wire format: files uploaded to
//! us, then to Meta, then sent by media id; replies quoting a message (`context`);
//! reply buttons; and the clear errors for what WhatsApp would refuse.

use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sha2::Digest;

on_both_backends!(agents_send_files_quoted_replies_and_buttons);

async fn agents_send_files_quoted_replies_and_buttons(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let http = reqwest::Client::new();
    let ana = stack.login("ana@demo.handoff.dev").await;
    let token = ana.token.expose().to_owned();
    stack.set_online(&token).await;
    let (asked, _) = sb.customer_says("4977001", "Lea", "talk to a human please").await.unwrap();
    let conv: Conversation = eventually(10, "assignment", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", &token).await;
        l.into_iter().find(|c| c.state == ConversationState::Assigned)
    })
    .await;
    let detail: ConversationDetail = stack.get_json(&format!("/v1/conversations/{}", conv.id), &token).await;
    let question = detail.messages.iter().find(|m| m.wamid.as_deref() == Some(asked.as_str())).unwrap().clone();

    let upload = |bytes: Vec<u8>, mime: &str, name: &str| {
        http.post(format!("{}/v1/conversations/{}/attachments", stack.url(), conv.id))
            .bearer_auth(&token)
            .header("content-type", mime)
            .header("x-filename", name)
            .body(bytes)
            .send()
    };
    let send = |body: Value| {
        http.post(format!("{}/v1/conversations/{}/messages", stack.url(), conv.id))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    // A photo with a caption, quoting the customer's question.
    let photo: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let r = upload(photo.clone(), "image/png", "receipt%20scan.png").await.unwrap();
    assert_eq!(r.status(), 201);
    let att: Attachment = r.json().await.unwrap();
    assert_eq!((att.kind.as_str(), att.filename.as_deref(), att.size), ("image", Some("receipt scan.png"), 50_000));
    assert_eq!(att.sha256, hex::encode(sha2::Sha256::digest(&photo)));
    let r = send(
        json!({"client_id": "p1", "text": "Here is your receipt", "attachment_id": att.id, "reply_to": question.id}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let sent: Message = r.json().await.unwrap();
    assert_eq!((sent.kind.as_str(), sent.text.as_deref()), ("image", Some("Here is your receipt")));
    assert_eq!(sent.media.as_ref().map(|m| m.status.as_str()), Some("ready"), "shown at once from our copy");
    let content = sent.content.clone().unwrap().to_value();
    assert_eq!(content["context"]["id"], asked.as_str(), "the thread shows what it quotes");
    assert_eq!(content["image"]["caption"], "Here is your receipt");
    let r = http.get(format!("{}/v1/media/{}", stack.url(), sent.id)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), photo);

    // Meta got the file by upload, then a message naming its media id, with the context.
    let call =
        eventually(10, "the image send", || async { sb.sent().await.into_iter().find(|s| s.body["type"] == "image") })
            .await;
    assert_eq!(call.body["image"]["caption"], "Here is your receipt");
    assert_eq!(call.body["context"]["message_id"], asked.as_str());
    assert!(call.body["image"].get("upload").is_none(), "our own bookkeeping never reaches Meta");
    let media_id = call.body["image"]["id"].as_str().unwrap().to_owned();
    let info: Value = http
        .get(format!("{}/v23.0/{media_id}", sb_url(&stack)))
        .bearer_auth("test-access-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sha256"], att.sha256.as_str(), "Meta holds exactly our bytes");
    assert_eq!(info["mime_type"], "image/png");
    let m = eventually(10, "the sent status", || async {
        let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{}", conv.id), &token).await;
        d.messages
            .into_iter()
            .find(|m| m.id == sent.id && m.status != DeliveryStatus::Queued && m.status != DeliveryStatus::Sending)
    })
    .await;
    assert_ne!(m.status, DeliveryStatus::Failed, "{:?}", m.error);

    // A PDF keeps its file name; a quoted text reply carries the context too.
    let pdf = b"%PDF-1.7 invoice".to_vec();
    let att: Attachment =
        upload(pdf, "application/pdf", "Rechnung%20M%C3%A4rz.pdf").await.unwrap().json().await.unwrap();
    assert_eq!((att.kind.as_str(), att.filename.as_deref()), ("document", Some("Rechnung März.pdf")));
    assert_eq!(send(json!({"client_id": "p2", "attachment_id": att.id})).await.unwrap().status(), 201);
    assert_eq!(
        send(json!({"client_id": "p3", "text": "See above", "reply_to": question.id})).await.unwrap().status(),
        201
    );
    // Reply buttons.
    let buttons =
        json!({"type": "button", "buttons": [{"id": "yes", "title": "Yes, solved"}, {"id": "no", "title": "No"}]});
    let r = send(json!({"client_id": "p4", "text": "Did that help?", "interactive": buttons})).await.unwrap();
    assert_eq!(r.status(), 201);
    let shown: Message = r.json().await.unwrap();
    assert_eq!(
        shown.content.unwrap().to_value()["interactive"]["action"]["buttons"][0]["reply"]["title"],
        "Yes, solved"
    );
    let calls = eventually(10, "the other sends", || async {
        let s = sb.sent().await;
        (s.iter().filter(|c| c.body["type"] != "text" || c.body["context"].is_object()).count() >= 4).then_some(s)
    })
    .await;
    let doc = calls.iter().find(|c| c.body["type"] == "document").unwrap();
    assert_eq!(doc.body["document"]["filename"], "Rechnung März.pdf");
    let quoted = calls.iter().find(|c| c.body["text"]["body"] == "See above").unwrap();
    assert_eq!(quoted.body["context"]["message_id"], asked.as_str());
    let menu = calls.iter().find(|c| c.body["type"] == "interactive").unwrap();
    assert_eq!(menu.body["interactive"]["body"]["text"], "Did that help?");
    assert_eq!(menu.body["interactive"]["action"]["buttons"][1]["reply"]["id"], "no");
    // Each went out once.
    let n = |t: &str| calls.iter().filter(|c| c.body["type"] == t).count();
    assert_eq!((n("image"), n("document"), n("interactive")), (1, 1, 1));

    // What WhatsApp would refuse is refused here first, with a stable code.
    let code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        let e: ApiError = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not an API error: {body}"));
        (status, e.code)
    };
    assert_eq!(
        code(upload(b"GIF89a".to_vec(), "image/gif", "a.gif").await.unwrap()).await,
        (415, ErrorCode::UnsupportedMediaType)
    );
    assert_eq!(
        code(upload(vec![0u8; 6 << 20], "image/jpeg", "big.jpg").await.unwrap()).await,
        (413, ErrorCode::PayloadTooLarge)
    );
    let four = json!({"type": "button", "buttons": [{"id":"a","title":"A"},{"id":"b","title":"B"},{"id":"c","title":"C"},{"id":"d","title":"D"}]});
    assert_eq!(
        code(send(json!({"client_id": "x1", "text": "Pick", "interactive": four})).await.unwrap()).await,
        (422, ErrorCode::InvalidInput)
    );
    assert_eq!(
        code(send(json!({"client_id": "x2", "text": "Hi", "reply_to": 999_999})).await.unwrap()).await,
        (422, ErrorCode::InvalidInput)
    );
    assert_eq!(
        code(send(json!({"client_id": "x3", "text": "Hi", "attachment_id": 999_999})).await.unwrap()).await,
        (422, ErrorCode::InvalidInput)
    );
    // Only the conversation's owner uploads into it; a teammate does not even see it.
    let ben = stack.login("ben@demo.handoff.dev").await;
    let r = http
        .post(format!("{}/v1/conversations/{}/attachments", stack.url(), conv.id))
        .bearer_auth(ben.token.expose())
        .header("content-type", "image/png")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (404, ErrorCode::NotFound));
    // A manager sees it, and is still not its owner.
    let maya = stack.login("maya@demo.handoff.dev").await;
    let r = http
        .post(format!("{}/v1/conversations/{}/attachments", stack.url(), conv.id))
        .bearer_auth(maya.token.expose())
        .header("content-type", "image/png")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(code(r).await, (409, ErrorCode::NotAssignee));
}

fn sb_url(stack: &TestStack) -> String {
    stack.sandbox.url()
}
