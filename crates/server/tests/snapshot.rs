//! Bootstrap by snapshot (`/v1/sync?snapshot=`), on SQLite and PostgreSQL: pages of
//! what the caller may see now, one cursor for all of them, then the changes after it.

use handoff_protocol::*;
use handoff_server::testkit::{TestApi, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::json;

on_both_backends!(a_snapshot_pages_what_the_caller_sees_then_changes_follow,);

async fn a_snapshot_pages_what_the_caller_sees_then_changes_follow(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let maya = stack.login("maya@demo.handoff.dev").await.token.expose().to_owned();
    let ana = stack.login("ana@demo.handoff.dev").await;
    // Five escalated conversations (queued: nobody online) and one the bot keeps.
    let mut escalated = Vec::new();
    for i in 0..5 {
        escalated.push(api.escalate(&format!("49170000500{i}"), json!({})).await.0);
    }
    let bot_only = api.conversation("491700005099").await;
    // Ana takes one: she then sees it (hers) and the queue (waiting ones of her team).
    let ana_token = ana.token.expose().to_owned();
    api.ok("POST", &format!("/v1/conversations/{}/claim", escalated[0]), &ana_token, None).await;

    let page = |token: String, cursor: i64, after: i64, limit: i64| {
        let stack = &stack;
        async move {
            stack
                .get_json::<SyncResponse>(&format!("/v1/sync?cursor={cursor}&snapshot={after}&limit={limit}"), &token)
                .await
        }
    };
    // The manager: every escalated conversation, two per page, with whole histories.
    let mut seen = Vec::new();
    let first = page(maya.clone(), 0, 0, 2).await;
    let cursor = first.cursor;
    assert!(cursor > 0);
    let (mut after, mut resp) = (first.snapshot_after, first);
    loop {
        assert_eq!(resp.cursor, cursor, "one cursor for the whole snapshot");
        assert!(resp.conversations.len() <= 2);
        for c in &resp.conversations {
            assert!(resp.messages.iter().any(|m| m.conversation_id == c.id), "history comes with the conversation");
            assert!(resp.handoffs.iter().any(|h| h.conversation_id == c.id));
        }
        seen.extend(resp.conversations.iter().map(|c| c.id.0));
        match after {
            Some(a) => {
                assert!(resp.has_more);
                resp = page(maya.clone(), cursor, a, 2).await;
                after = resp.snapshot_after;
            }
            None => {
                assert!(!resp.has_more);
                break;
            }
        }
    }
    assert_eq!(seen, escalated, "every escalated conversation once, in id order");
    assert!(!seen.contains(&bot_only), "a conversation only the bot handled is not in an inbox");

    // An agent: only what she may see (hers and her team's queue).
    let mine = page(ana_token.clone(), 0, 0, 100).await;
    let ids: Vec<i64> = mine.conversations.iter().map(|c| c.id.0).collect();
    assert_eq!(ids, escalated, "claimed + her team's queue");
    let hers = mine.conversations.iter().find(|c| c.id.0 == escalated[0]).unwrap();
    assert_eq!(hers.assignee_id, Some(ana.agent.id));

    // After the snapshot, the change log from its cursor carries what happened since.
    stack.sandbox.sandbox.customer_says("491700005000", "Customer", "still there?").await.unwrap();
    let later = handoff_server::testkit::eventually(10, "the new message after the snapshot", || async {
        let r: SyncResponse = stack.get_json(&format!("/v1/sync?cursor={cursor}"), &maya).await;
        r.messages.iter().any(|m| m.text.as_deref() == Some("still there?")).then_some(r)
    })
    .await;
    assert!(later.cursor > cursor);
    assert_eq!(later.snapshot_after, None);
}
