//! Routing and assignment over real HTTP, on SQLite and PostgreSQL: round-robin and
//! least-loaded order, capacity, offline agents skipped, stickiness; the queue in
//! priority order, drained on every kind of capacity change; fifty simultaneous
//! claims with one winner; transfers with a note, unassignment, manager overrides,
//! and the audit log that records them.

use handoff_protocol::*;
use handoff_server::testkit::{TestApi as Api, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(
    strategies_capacity_offline_agents_and_stickiness,
    the_queue_is_ordered_and_drains_whenever_capacity_appears,
    fifty_simultaneous_claims_have_exactly_one_winner,
    transfers_overrides_and_unassignment_are_recorded,
);

const WS: i64 = 1;

async fn admin(stack: &TestStack) -> String {
    stack.login("omar@demo.handoff.dev").await.token.expose().to_owned()
}

/// A team of new agents (online when `online`), created by the admin.
async fn team(
    stack: &TestStack,
    api: &Api<'_>,
    admin: &str,
    name: &str,
    agents: &[&str],
    online: bool,
) -> (i64, Vec<(i64, String)>) {
    let mut members = Vec::new();
    for a in agents {
        let (id, token) = stack.add_agent(WS, &format!("{a}@{name}.test"), a, "agent").await;
        if online {
            api.availability(&token, "online").await;
        }
        members.push((id, token));
    }
    let ids: Vec<i64> = members.iter().map(|(id, _)| *id).collect();
    // New people join the default team; these belong to their own team only.
    let teams: Vec<Team> = stack.get_json("/v1/teams", admin).await;
    let default = teams.iter().find(|t| t.is_default).unwrap();
    let rest: Vec<i64> = default.member_ids.iter().map(|a| a.0).filter(|a| !ids.contains(a)).collect();
    api.ok("PATCH", &format!("/v1/teams/{}", default.id), admin, Some(json!({ "member_ids": rest }))).await;
    let t = api.ok("POST", "/v1/teams", admin, Some(json!({ "name": name, "member_ids": ids }))).await;
    (t["id"].as_i64().unwrap(), members)
}

async fn strategies_capacity_offline_agents_and_stickiness(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = Api::new(&stack);
    let omar = admin(&stack).await;
    let (sales, m) = team(&stack, &api, &omar, "sales", &["s1", "s2", "s3"], true).await;
    let (s1, s2, s3) = (m[0].0, m[1].0, m[2].0);
    let to_sales = json!({ "team_id": sales });

    // Round-robin: in turn, then the one assigned longest ago.
    let mut got = Vec::new();
    for i in 0..4 {
        got.push(api.escalate(&format!("49100{i}"), to_sales.clone()).await.1);
    }
    assert_eq!(got, [Some(s1), Some(s2), Some(s3), Some(s1)]);

    // Capacity: s1 may hold one conversation and has two; s2 is next in turn.
    api.ok("PATCH", &format!("/v1/agents/{s1}"), &omar, Some(json!({ "capacity": 1 }))).await;
    assert_eq!(api.escalate("491004", to_sales.clone()).await.1, Some(s2));
    // Offline agents get nothing: with s3 offline only s2 has room.
    api.availability(&m[2].1, "offline").await;
    assert_eq!(api.escalate("491005", to_sales.clone()).await.1, Some(s2));
    let agents: Vec<AgentProfile> = stack.get_json("/v1/agents", &omar).await;
    let load = |id: i64| agents.iter().find(|a| a.id.0 == id).unwrap().open_conversations;
    assert_eq!((load(s1), load(s2), load(s3)), (2, 3, 1));

    // Least-loaded: s3 (back online, one conversation) takes the next two.
    api.availability(&m[2].1, "online").await;
    api.ok("PATCH", &format!("/v1/teams/{sales}"), &omar, Some(json!({ "strategy": "least_loaded" }))).await;
    assert_eq!(api.escalate("491006", to_sales.clone()).await.1, Some(s3));
    assert_eq!(api.escalate("491007", to_sales.clone()).await.1, Some(s3));
    // Loads now 2 / 3 / 3: s1 is least loaded but full, s2 and s3 tie: assigned longer ago wins.
    assert_eq!(api.escalate("491008", to_sales.clone()).await.1, Some(s2));

    // Stickiness, in a fresh round-robin pair.
    let (duo, d) = team(&stack, &api, &omar, "duo", &["a", "b"], true).await;
    let (a, b) = (d[0].0, d[1].0);
    let to_duo = json!({ "team_id": duo });
    let (c, first) = api.escalate("492000", to_duo.clone()).await;
    assert_eq!(first, Some(a));
    api.resolve(c, &d[0].1).await;
    assert_eq!(api.escalate("492001", to_duo.clone()).await.1, Some(b));
    assert_eq!(api.escalate("492002", to_duo.clone()).await.1, Some(a));
    // Round-robin says b; the returning customer goes back to a.
    assert_eq!(api.hand_off(c, to_duo.clone()).await.assignee_id, Some(AgentId(a)));
    api.resolve(c, &d[0].1).await;
    // Without stickiness the same customer goes by turn (b).
    api.ok("PATCH", &format!("/v1/teams/{duo}"), &omar, Some(json!({ "sticky": false }))).await;
    assert_eq!(api.hand_off(c, to_duo.clone()).await.assignee_id, Some(AgentId(b)));
}

async fn the_queue_is_ordered_and_drains_whenever_capacity_appears(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = Api::new(&stack);
    let omar = admin(&stack).await;
    let (q, m) = team(&stack, &api, &omar, "queue", &["q1", "q2", "q3"], false).await;
    let (q1, q2, q3) = (m[0].0, m[1].0, m[2].0);
    let to_q = |priority: &str| json!({ "team_id": q, "priority": priority });

    // Nobody online: the queue holds them most urgent first, then by waiting time.
    let (low, _) = api.escalate("493000", to_q("low")).await;
    let (urgent1, _) = api.escalate("493001", to_q("urgent")).await;
    let (normal, _) = api.escalate("493002", to_q("normal")).await;
    let (urgent2, _) = api.escalate("493003", to_q("urgent")).await;
    let queue: Vec<QueueEntry> = stack.get_json("/v1/queue", &m[0].1).await;
    let order: Vec<i64> = queue.iter().map(|e| e.conversation_id.0).collect();
    assert_eq!(order, [urgent1, urgent2, normal, low]);
    assert_eq!(queue.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 2, 3, 4]);

    // 1. An agent comes online (capacity 1): the most urgent is theirs.
    api.ok("PATCH", &format!("/v1/agents/{q1}"), &omar, Some(json!({ "capacity": 1 }))).await;
    api.availability(&m[0].1, "online").await;
    assert_eq!(api.assignee(urgent1).await, Some(q1));
    assert_eq!(api.assignee(urgent2).await, None);
    // 2. They resolve: the next one follows.
    api.resolve(urgent1, &m[0].1).await;
    assert_eq!(api.assignee(urgent2).await, Some(q1));
    // 3. More capacity.
    api.ok("PATCH", &format!("/v1/agents/{q1}"), &omar, Some(json!({ "capacity": 2 }))).await;
    assert_eq!(api.assignee(normal).await, Some(q1));
    // 4. A new team member who is online.
    api.ok("PATCH", &format!("/v1/agents/{q3}"), &omar, Some(json!({ "capacity": 1 }))).await;
    api.availability(&m[2].1, "online").await;
    api.ok("PATCH", &format!("/v1/teams/{q}"), &omar, Some(json!({ "member_ids": [q1, q3] }))).await;
    assert_eq!(api.assignee(low).await, Some(q3));
    // q2 is no longer in the team and gets nothing even when online.
    let (later, _) = api.escalate("493004", to_q("normal")).await;
    api.availability(&m[1].1, "online").await;
    assert_eq!(api.assignee(later).await, None);
    let _ = q2;

    // 5. A rule change: a queued VIP handoff in the default team (nobody there is
    //    online) moves to the queue team, where q3 gets room.
    let (vip, _) = api.escalate("493005", json!({ "skill": "vip" })).await;
    assert_eq!(api.assignee(vip).await, None);
    api.ok("PATCH", &format!("/v1/agents/{q3}"), &omar, Some(json!({ "capacity": 3 }))).await;
    // (q3's new room went to the older queued conversation first.)
    assert_eq!(api.assignee(later).await, Some(q3));
    let rule = api
        .ok(
            "POST",
            "/v1/routing-rules",
            &omar,
            Some(json!({ "name": "VIPs to the queue team", "team_id": q, "priority": "high",
                         "conditions": { "skills": ["vip"] } })),
        )
        .await;
    assert_eq!(rule["conditions"]["skills"], json!(["vip"]));
    assert_eq!(api.assignee(vip).await, Some(q3));
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{vip}"), &omar).await;
    let h = d.handoffs.last().unwrap();
    assert_eq!((h.routed_by.as_deref(), h.priority), (Some("VIPs to the queue team"), Priority::High));
    // New handoffs follow the rule at once.
    let (vip2, _) = api.escalate("493006", json!({ "skill": "VIP" })).await;
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{vip2}"), &omar).await;
    assert_eq!(d.conversation.team_id, Some(TeamId(q)));

    // 6. Giving a conversation back puts it with someone else who has room, not back.
    api.ok("PATCH", &format!("/v1/agents/{q1}"), &omar, Some(json!({ "capacity": 5 }))).await;
    api.ok("POST", &format!("/v1/conversations/{later}/unassign"), &m[2].1, None).await;
    assert_eq!(api.assignee(later).await, Some(q1));
}

async fn fifty_simultaneous_claims_have_exactly_one_winner(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = Api::new(&stack);
    let mut tokens = Vec::new();
    for i in 0..50 {
        let (id, token) = stack.add_agent(WS, &format!("racer{i}@race.test"), &format!("Racer {i}"), "agent").await;
        tokens.push((id, token));
    }
    // Nobody is online: the conversation waits in the default team, where all fifty are.
    let (conv, assignee) = api.escalate("494000", json!({})).await;
    assert_eq!(assignee, None);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for (id, token) in tokens.clone() {
        let (barrier, url) = (barrier.clone(), format!("{}/v1/conversations/{conv}/claim", stack.url()));
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            barrier.wait().await;
            let r = http.post(url).bearer_auth(token).send().await.unwrap();
            (id, r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for t in tasks {
        let (id, status, body) = t.await.unwrap();
        match status {
            200 => winners.push((id, body)),
            409 => losers.push(body),
            other => panic!("a claim answered {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    assert_eq!(losers.len(), 49);
    let (winner, won) = &winners[0];
    assert_eq!(won["assignee_id"], json!(winner));
    let name = format!("Racer {}", tokens.iter().position(|(id, _)| id == winner).unwrap());
    for l in &losers {
        assert_eq!(l["code"], "already_claimed");
        assert_eq!(l["details"]["owner"]["id"], json!(winner));
        assert_eq!(l["details"]["owner"]["name"], json!(name));
    }
    assert_eq!(api.assignee(conv).await, Some(*winner));
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'conversation.claimed'")
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 1);
    // Claiming again is harmless for the winner.
    let token = &tokens.iter().find(|(id, _)| id == winner).unwrap().1;
    let (status, _) = api.call("POST", &format!("/v1/conversations/{conv}/claim"), token, None).await;
    assert_eq!(status, 200);
}

async fn transfers_overrides_and_unassignment_are_recorded(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = Api::new(&stack);
    let omar = admin(&stack).await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let ben = stack.login("ben@demo.handoff.dev").await;
    let maya = stack.login("maya@demo.handoff.dev").await;
    let (ana_t, ben_t, maya_t) = (ana.token.expose().to_owned(), ben.token.expose().to_owned(), maya.token.expose());
    api.availability(&ana_t, "online").await;
    let (conv, assignee) = api.escalate("495000", json!({})).await;
    assert_eq!(assignee, Some(ana.agent.id.0));

    // Ben is not the owner or a manager: no transfer, no assignment.
    let (status, err) = api
        .call(
            "POST",
            &format!("/v1/conversations/{conv}/transfer"),
            &ben_t,
            Some(json!({ "agent_id": ben.agent.id, "note": "mine" })),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (409, Some("not_assignee")));
    let (status, err) = api
        .call("POST", &format!("/v1/conversations/{conv}/assign"), &ben_t, Some(json!({ "agent_id": ben.agent.id })))
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")));
    // A transfer needs a note and one target.
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/conversations/{conv}/transfer"),
            &ana_t,
            Some(json!({ "agent_id": ben.agent.id, "note": " " })),
        )
        .await;
    assert_eq!(status, 422);

    // Ana transfers to Ben with a note: Ben owns it and reads the note first.
    let c = api
        .ok(
            "POST",
            &format!("/v1/conversations/{conv}/transfer"),
            &ana_t,
            Some(json!({ "agent_id": ben.agent.id, "note": "Refund approved, please send the label" })),
        )
        .await;
    assert_eq!(c["assignee_id"], json!(ben.agent.id));
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{conv}"), &ben_t).await;
    assert_eq!(d.handoffs.last().unwrap().transfer_note.as_deref(), Some("Refund approved, please send the label"));

    // Transfer to a team queue: a new "billing" team where nobody is online.
    let billing = api.ok("POST", "/v1/teams", &omar, Some(json!({ "name": "Billing", "member_ids": [] }))).await;
    let c = api
        .ok(
            "POST",
            &format!("/v1/conversations/{conv}/transfer"),
            &ben_t,
            Some(json!({ "team_id": billing["id"], "note": "Invoice question" })),
        )
        .await;
    assert_eq!(
        (c["state"].as_str(), c["assignee_id"].clone(), c["team_id"].clone()),
        (Some("waiting"), Value::Null, billing["id"].clone())
    );

    // Maya manages the default team, not Billing: she cannot assign there; the admin can.
    let (status, _) = api
        .call("POST", &format!("/v1/conversations/{conv}/assign"), maya_t, Some(json!({ "agent_id": ana.agent.id })))
        .await;
    assert_eq!(status, 403);
    api.ok("POST", &format!("/v1/conversations/{conv}/assign"), &omar, Some(json!({ "agent_id": ana.agent.id }))).await;
    // Admin override to Ben, then Ben gives it back: it waits (nobody in Billing).
    api.ok("POST", &format!("/v1/conversations/{conv}/assign"), &omar, Some(json!({ "agent_id": ben.agent.id }))).await;
    let c = api.ok("POST", &format!("/v1/conversations/{conv}/unassign"), &ben_t, None).await;
    assert_eq!(c["state"], "waiting");

    // Viewers claim nothing.
    let (_, viewer) = stack.add_agent(WS, "vera@demo.test", "Vera Viewer", "viewer").await;
    let (status, _) = api.call("POST", &format!("/v1/conversations/{conv}/claim"), &viewer, None).await;
    assert_eq!(status, 403);

    // The audit log has the story, newest first; agents may not read it.
    let log: Vec<Value> = serde_json::from_value(api.ok("GET", "/v1/audit", &omar, None).await).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    let expected = [
        "conversation.unassigned",
        "conversation.overridden",
        "conversation.assigned",
        "conversation.transferred",
        "team.created",
        "conversation.transferred",
    ];
    assert_eq!(&actions[..expected.len()], expected);
    assert!(actions.contains(&"conversation.handed_off"));
    let routed = log.iter().find(|e| e["action"] == "conversation.routed").expect("routing's own assignment");
    assert_eq!((routed["actor"].as_str(), routed["detail"]["agent_id"].clone()), (Some("system"), json!(ana.agent.id)));
    assert_eq!(log[3]["detail"]["note"], "Invoice question");
    assert_eq!(log[3]["actor_name"], "Ben Okafor");
    let (status, _) = api.call("GET", "/v1/audit", &ana_t, None).await;
    assert_eq!(status, 403);
}

on_both_backends!(agents_see_their_queue_and_their_own_conversations_only);

/// An agent's inbox is their teams' queue and their own conversations: when a
/// teammate claims one from the queue, it leaves the others' inboxes (sync says
/// `removed`) and its thread is no longer theirs to read.
async fn agents_see_their_queue_and_their_own_conversations_only(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = Api::new(&stack);
    let ana = stack.login("ana@demo.handoff.dev").await;
    let ben = stack.login("ben@demo.handoff.dev").await;
    let (ana_t, ben_t) = (ana.token.expose().to_owned(), ben.token.expose().to_owned());
    let (conv, owner) = api.escalate("484000", json!({})).await;
    assert_eq!(owner, None, "nobody online: queued in the default team");
    let first: SyncResponse = stack.get_json("/v1/sync?cursor=0", &ana_t).await;
    assert!(first.conversations.iter().any(|c| c.id.0 == conv), "in Ana's team queue");
    let queue: Vec<QueueEntry> = stack.get_json("/v1/queue", &ana_t).await;
    assert_eq!(queue.iter().map(|q| q.conversation_id.0).collect::<Vec<_>>(), [conv]);

    api.ok("POST", &format!("/v1/conversations/{conv}/claim"), &ben_t, None).await;
    let next: SyncResponse = stack.get_json(&format!("/v1/sync?cursor={}", first.cursor), &ana_t).await;
    assert_eq!(next.removed, [ConversationId(conv)]);
    assert!(
        next.conversations.iter().all(|c| c.id.0 != conv) && next.messages.iter().all(|m| m.conversation_id.0 != conv)
    );
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", &ana_t).await;
    assert!(list.iter().all(|c| c.id.0 != conv));
    let (status, _) = api.call("GET", &format!("/v1/conversations/{conv}"), &ana_t, None).await;
    assert_eq!(status, 404);
    // Ben has it, with its history; the manager sees everything.
    let bens: SyncResponse = stack.get_json("/v1/sync?cursor=0", &ben_t).await;
    assert!(
        bens.conversations.iter().any(|c| c.id.0 == conv) && bens.messages.iter().any(|m| m.conversation_id.0 == conv)
    );
    assert!(bens.removed.is_empty());
    let maya = stack.login("maya@demo.handoff.dev").await;
    let list: Vec<Conversation> = stack.get_json("/v1/conversations", maya.token.expose()).await;
    assert!(list.iter().any(|c| c.id.0 == conv));
    // Once Ben transfers it to Ana, it is hers (whole thread), and gone from Ben's inbox.
    api.ok(
        "POST",
        &format!("/v1/conversations/{conv}/transfer"),
        &ben_t,
        Some(json!({ "agent_id": ana.agent.id, "note": "yours" })),
    )
    .await;
    let back: SyncResponse = stack.get_json(&format!("/v1/sync?cursor={}", next.cursor), &ana_t).await;
    assert!(back.conversations.iter().any(|c| c.id.0 == conv));
    assert!(back.messages.iter().any(|m| m.conversation_id.0 == conv && m.direction == Direction::Inbound));
    let bens_next: SyncResponse = stack.get_json(&format!("/v1/sync?cursor={}", bens.cursor), &ben_t).await;
    assert_eq!(bens_next.removed, [ConversationId(conv)]);
}
