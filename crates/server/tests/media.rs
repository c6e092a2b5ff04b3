//! Inbound media end to end, on SQLite and PostgreSQL: visible at once as pending,
//! fetched through the (sandboxed) Graph API with retries, checked against its
//! SHA-256, stored content-addressed, served only to those who may see the thread.

use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestStack};
use handoff_server::{on_both_backends, Backend};

on_both_backends!(media_is_fetched_checked_stored_and_served);

const BOT: &str = handoff_server::seed::DEMO_BOT_TOKEN;

async fn message_by_wamid(stack: &TestStack, wamid: &str) -> Option<Message> {
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", BOT).await;
    for c in list {
        let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{}", c.id), BOT).await;
        if let Some(m) = d.messages.into_iter().find(|m| m.wamid.as_deref() == Some(wamid)) {
            return Some(m);
        }
    }
    None
}

async fn media_is_fetched_checked_stored_and_served(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sb = &stack.sandbox.sandbox;
    let http = reqwest::Client::new();
    let photo: Vec<u8> = (0..20_000u32).map(|i| (i * 31 % 251) as u8).collect();

    // Meta fails twice; the message is there at once, the file follows.
    sb.fail_next_downloads(2).await;
    let (wamid, status) = sb
        .customer_sends_media("4960", "image", "image/jpeg", photo.clone(), Some("the broken blender"), None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let m = eventually(10, "the stored message", || async { message_by_wamid(&stack, &wamid).await }).await;
    assert_eq!((m.kind.as_str(), m.text.as_deref()), ("image", Some("the broken blender")));
    let m = eventually(15, "the file to be fetched", || async {
        message_by_wamid(&stack, &wamid).await.filter(|m| m.media.as_ref().is_some_and(|x| x.status == "ready"))
    })
    .await;
    let media = m.media.unwrap();
    assert_eq!((media.mime_type.as_deref(), media.size), (Some("image/jpeg"), Some(photo.len() as i64)));
    let r = http.get(format!("{}/v1/media/{}", stack.url(), m.id)).bearer_auth(BOT).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().to_vec(), photo);

    // Nobody without access gets it.
    let r = http.get(format!("{}/v1/media/{}", stack.url(), m.id)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let ana = stack.login("ana@demo.handoff.dev").await;
    let r =
        http.get(format!("{}/v1/media/{}", stack.url(), m.id)).bearer_auth(ana.token.expose()).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::NotFound, "not in Ana's inbox");

    // A file that does not match its announced SHA-256 is never stored or served.
    let (bad, _) = sb
        .customer_sends_media(
            "4960",
            "document",
            "application/pdf",
            b"%PDF-1.7 ...".to_vec(),
            None,
            Some("c2hvdWxkIG5vdCBtYXRjaA=="),
        )
        .await
        .unwrap();
    let m = eventually(10, "the failed check", || async {
        message_by_wamid(&stack, &bad).await.filter(|m| m.media.as_ref().and_then(|x| x.error.clone()).is_some())
    })
    .await;
    assert!(m.media.as_ref().unwrap().error.as_deref().unwrap().contains("SHA-256"));
    assert_ne!(m.media.as_ref().unwrap().status, "ready");
    let r = http.get(format!("{}/v1/media/{}", stack.url(), m.id)).bearer_auth(BOT).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
