//! SLA clocks on SQLite and PostgreSQL, with the server's SLA clock moved forward by
//! the test: warning at 75%, breach at 100%, each once and as project webhooks; a late
//! first response reassigns or escalates to the team's manager; the resolution clock
//! pauses while the customer owes an answer; business hours stretch deadlines; and a
//! clock started before a restart breaches after it.

use std::time::Duration;

use handoff_protocol::*;
use handoff_server::testkit::{eventually, HookReceiver, TestApi, TestStack};
use handoff_server::{on_both_backends, sla, Backend};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(
    clocks_warn_breach_reassign_and_pause,
    breaches_escalate_to_the_manager_and_follow_business_hours,
    a_clock_started_before_a_restart_breaches_after_it,
);

const BOT: &str = handoff_server::seed::DEMO_BOT_TOKEN;
const WS: i64 = 1;

/// A team of new online agents (only in that team); returns (team, [(id, token)]).
async fn team(
    stack: &TestStack,
    api: &TestApi<'_>,
    admin: &str,
    name: &str,
    agents: &[&str],
) -> (i64, Vec<(i64, String)>) {
    let mut members = Vec::new();
    for a in agents {
        let (id, token) = stack.add_agent(WS, &format!("{a}@{name}.test"), a, "agent").await;
        api.ok("PUT", "/v1/me/availability", &token, Some(json!({ "availability": "online" }))).await;
        members.push((id, token));
    }
    let ids: Vec<i64> = members.iter().map(|(id, _)| *id).collect();
    let t = api.ok("POST", "/v1/teams", admin, Some(json!({ "name": name, "member_ids": ids }))).await;
    (t["id"].as_i64().unwrap(), members)
}

/// A stack whose agents stay online however far the test moves the clock.
async fn stack(backend: Backend) -> TestStack {
    TestStack::start_with(backend, |c| c.offline_grace = Duration::from_secs(365 * 24 * 3600)).await
}

fn policy(first: u64, next: u64, resolution: u64, action: &str) -> Value {
    let t = json!({ "first_response_secs": first, "next_response_secs": next, "resolution_secs": resolution });
    json!({ "urgent": t, "high": t, "normal": t, "low": t, "warning_ratio": 0.75,
            "pause_while_waiting_on_customer": true, "breach_action": action })
}

async fn clock(stack: &TestStack, conv: i64, kind: SlaKind) -> Option<SlaClock> {
    let omar = stack.login("omar@demo.handoff.dev").await;
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{conv}"), omar.token.expose()).await;
    d.handoffs.last().unwrap().sla.iter().rfind(|c| c.kind == kind).cloned()
}

/// Warnings and breaches recorded so far.
async fn marks(state: &handoff_server::AppState) -> i64 {
    sqlx::query("SELECT COUNT(warned_at) + COUNT(breached_at) AS n FROM sla_clocks")
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .get("n")
}

/// Moves SLA time forward and fires what is due; returns how many warnings and
/// breaches that made (whether this tick or the server's own worker fired them).
async fn advance(stack: &TestStack, secs: u64) -> i64 {
    let state = &stack.server.state;
    let before = marks(state).await;
    state.clock.advance(Duration::from_secs(secs));
    sla::tick(state).await.unwrap();
    marks(state).await - before
}

fn events(rx: &HookReceiver, kind: &str) -> Vec<Value> {
    rx.all().iter().map(|r| r.json()).filter(|e| e["type"] == kind).collect()
}

async fn clocks_warn_breach_reassign_and_pause(backend: Backend) {
    let stack = stack(backend).await;
    let api = TestApi::new(&stack);
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let rx = HookReceiver::start().await;
    api.ok(
        "POST",
        "/v1/webhooks",
        BOT,
        Some(json!({ "url": rx.url, "events": ["conversation.sla_warning", "conversation.sla_breached"] })),
    )
    .await;
    // Only admins set the policy; it is checked.
    let ana = stack.login("ana@demo.handoff.dev").await.token.expose().to_owned();
    let (status, _) = api.call("PUT", "/v1/settings/sla", &ana, Some(policy(60, 120, 600, "reassign"))).await;
    assert_eq!(status, 403);
    let (status, _) = api.call("PUT", "/v1/settings/sla", &omar, Some(policy(0, 120, 600, "reassign"))).await;
    assert_eq!(status, 422);
    api.ok("PUT", "/v1/settings/sla", &omar, Some(policy(60, 120, 600, "reassign"))).await;
    let defaults: SlaPolicy = serde_json::from_value(json!({})).unwrap();
    assert_eq!(defaults.urgent.first_response_secs, 120, "urgent defaults to 2 minutes");
    assert_eq!(defaults.low.first_response_secs, 30 * 60);

    let (t, m) = team(&stack, &api, &omar, "duo", &["a", "b"]).await;
    let (a, b) = (m[0].0, m[1].0);
    let (conv, owner) = api.escalate("496000", json!({ "team_id": t })).await;
    assert_eq!(owner, Some(a));
    let first = clock(&stack, conv, SlaKind::FirstResponse).await.unwrap();
    assert_eq!(first.target_ms, 60_000);
    assert_eq!(first.due_at.unwrap() - first.started_at, 60_000);
    assert_eq!(first.warn_at.unwrap() - first.started_at, 45_000);
    // The conversation carries the nearest running deadline for lists.
    let c = api.ok("GET", &format!("/v1/conversations/{conv}"), &omar, None).await["conversation"].clone();
    assert_eq!(c["sla_due_at"], json!(first.due_at.unwrap()));
    assert_eq!(c["sla_kind"], "first_response");

    // 44 s: nothing yet. 46 s: the warning, once.
    assert_eq!(advance(&stack, 44).await, 0);
    assert_eq!(advance(&stack, 2).await, 1);
    assert_eq!(advance(&stack, 1).await, 0);
    let warning =
        eventually(10, "the warning webhook", || async { events(&rx, "conversation.sla_warning").pop() }).await;
    assert_eq!(warning["data"]["clock"], "first_response");
    assert_eq!(warning["data"]["assignee"]["id"], json!(a));
    assert!(clock(&stack, conv, SlaKind::FirstResponse).await.unwrap().warned_at.is_some());

    // 61 s: breached; the conversation goes to the other online agent.
    assert_eq!(advance(&stack, 14).await, 1);
    assert_eq!(api.assignee(conv).await, Some(b));
    let breach =
        eventually(10, "the breach webhook", || async { events(&rx, "conversation.sla_breached").pop() }).await;
    assert_eq!(breach["data"]["clock"], "first_response");
    assert_eq!(breach["data"]["action"]["type"], "reassigned");
    assert_eq!(breach["data"]["action"]["to_agent_id"], json!(b));
    assert_eq!(advance(&stack, 60).await, 0, "a breach fires once");

    // b answers: the response clock stops; the resolution clock waits on the customer.
    api.ok(
        "POST",
        &format!("/v1/conversations/{conv}/messages"),
        &m[1].1,
        Some(json!({ "client_id": "r1", "text": "On it!" })),
    )
    .await;
    assert!(clock(&stack, conv, SlaKind::FirstResponse).await.unwrap().stopped_at.is_some());
    let res = clock(&stack, conv, SlaKind::Resolution).await.unwrap();
    assert!(res.paused && res.due_at.is_none());
    let c = api.ok("GET", &format!("/v1/conversations/{conv}"), &omar, None).await["conversation"].clone();
    assert_eq!(c["sla_due_at"], Value::Null, "no running clock while the customer owes an answer");
    assert_eq!(advance(&stack, 3600).await, 0, "a paused resolution clock does not breach");

    // The customer writes: the resolution clock resumes with what it had left (600 s
    // minus the 121 s before the pause), and a next-response clock starts.
    stack.sandbox.sandbox.customer_says("496000", "Customer", "thanks, any news?").await.unwrap();
    let next =
        eventually(10, "the next-response clock", || async { clock(&stack, conv, SlaKind::NextResponse).await }).await;
    let now = stack.server.state.clock.now_ms();
    let res = clock(&stack, conv, SlaKind::Resolution).await.unwrap();
    assert!(!res.paused);
    let left = res.due_at.unwrap() - now;
    assert!((600_000 - 121_000 - 3_000..=600_000 - 121_000).contains(&left), "resolution left {left} ms");
    assert_eq!(next.target_ms, 120_000);
    let c = api.ok("GET", &format!("/v1/conversations/{conv}"), &omar, None).await["conversation"].clone();
    assert_eq!(c["sla_due_at"], json!(next.due_at.unwrap()), "the next response is due before the resolution");
    assert_eq!(c["sla_kind"], "next_response");
    assert_eq!(advance(&stack, 91).await, 1, "next-response warning at 75%");
    assert_eq!(advance(&stack, 30).await, 1, "next-response breach");
    let breaches = eventually(10, "two breaches", || async {
        let e = events(&rx, "conversation.sla_breached");
        (e.len() == 2).then_some(e)
    })
    .await;
    assert_eq!(breaches[1]["data"]["clock"], "next_response");
    assert_eq!(breaches[1]["data"]["action"], Value::Null, "only a late first response reassigns");
    assert_eq!(api.assignee(conv).await, Some(b));

    // Resolving stops every clock.
    api.resolve(conv, &m[1].1).await;
    assert_eq!(advance(&stack, 100_000).await, 0);
}

async fn breaches_escalate_to_the_manager_and_follow_business_hours(backend: Backend) {
    let stack = stack(backend).await;
    let api = TestApi::new(&stack);
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let maya = stack.login("maya@demo.handoff.dev").await;
    api.ok("PUT", "/v1/settings/sla", &omar, Some(policy(120, 300, 3600, "escalate_to_manager"))).await;
    let (t, m) = team(&stack, &api, &omar, "vip", &["v1"]).await;
    let members = json!([m[0].0, maya.agent.id]);
    let (status, err) =
        api.call("PATCH", &format!("/v1/teams/{t}"), &omar, Some(json!({ "manager_id": m[0].0 }))).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid_input")), "a manager must be a manager");
    api.ok(
        "PATCH",
        &format!("/v1/teams/{t}"),
        &omar,
        Some(json!({ "manager_id": maya.agent.id, "member_ids": members })),
    )
    .await;
    let (conv, owner) = api.escalate("497000", json!({ "team_id": t, "priority": "urgent" })).await;
    assert_eq!(owner, Some(m[0].0));
    assert_eq!(advance(&stack, 121).await, 2, "warning and breach in one step");
    assert_eq!(api.assignee(conv).await, Some(maya.agent.id.0), "escalated to the team's manager");
    let log: Vec<Value> =
        serde_json::from_value(api.ok("GET", "/v1/audit?action=sla.breach_action", &omar, None).await).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["detail"]["type"], "escalated_to_manager");

    // Business hours: the team works only on the weekday three days from now, so a
    // clock started now does not run out for at least two days.
    let now = stack.server.state.clock.now_ms();
    let day = now.div_euclid(86_400_000);
    let names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let open_day = names[((day + 3 + 4) % 7) as usize];
    api.ok(
        "PATCH",
        &format!("/v1/teams/{t}"),
        &omar,
        Some(json!({ "business_hours": { "utc_offset_minutes": 0, "days": { open_day: [["09:00", "17:00"]] } } })),
    )
    .await;
    let (status, _) = api
        .call(
            "PATCH",
            &format!("/v1/teams/{t}"),
            &omar,
            Some(json!({ "business_hours": { "days": { "mon": [["18:00", "09:00"]] } } })),
        )
        .await;
    assert_eq!(status, 422, "impossible hours are refused");
    let (conv2, _) = api.escalate("497001", json!({ "team_id": t, "priority": "urgent" })).await;
    let first = clock(&stack, conv2, SlaKind::FirstResponse).await.unwrap();
    let opens = (day + 3) * 86_400_000 + 9 * 3_600_000;
    assert_eq!(first.due_at, Some(opens + 120_000), "two business minutes after opening");
    advance(&stack, 24 * 3600).await;
    let first = clock(&stack, conv2, SlaKind::FirstResponse).await.unwrap();
    assert!(first.warned_at.is_none() && first.breached_at.is_none(), "closed days do not count");
}

async fn a_clock_started_before_a_restart_breaches_after_it(backend: Backend) {
    let stack = stack(backend).await;
    let api = TestApi::new(&stack);
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    api.ok("PUT", "/v1/settings/sla", &omar, Some(policy(60, 120, 600, "notify"))).await;
    let (conv, _) = api.escalate("498000", json!({})).await;
    assert_eq!(advance(&stack, 30).await, 0);
    stack.server.abort();

    // A new process on the same database: its clock starts from the system time.
    let config = handoff_server::Config::for_tests(&stack.database_url, &stack.sandbox.url());
    let server = handoff_server::start(config).await.unwrap();
    let state = &server.state;
    let breached = || async {
        sqlx::query(
            "SELECT warned_at, breached_at FROM sla_clocks WHERE conversation_id = $1 AND kind = 'first_response'",
        )
        .bind(conv)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
    };
    let r = breached().await;
    assert!(r.get::<Option<i64>, _>("breached_at").is_none());
    state.clock.advance(Duration::from_secs(61));
    // The new process's worker (or this tick) fires it, once.
    sla::tick(state).await.unwrap();
    let r = breached().await;
    assert!(r.get::<Option<i64>, _>("warned_at").is_some() && r.get::<Option<i64>, _>("breached_at").is_some());
    let before = marks(state).await;
    assert_eq!(sla::tick(state).await.unwrap(), 0, "and only once");
    assert_eq!(marks(state).await, before);
}
