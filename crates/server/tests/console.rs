//! The manager console on SQLite and PostgreSQL: every metric's definition on a seeded
//! history whose answers are computed by hand below (period boundaries, business
//! hours, nearest-rank percentiles), the breach review, the live board (risk order,
//! load, teams with nobody online, actions that land in the audit log, pokes) and the
//! Prometheus metrics.

use std::time::Duration;

use futures_util::StreamExt;
use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestApi, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(
    metrics_match_the_hand_computed_history,
    breaches_and_near_misses_by_team_agent_priority_and_trigger,
    the_board_orders_by_risk_and_its_actions_are_audited,
    prometheus_metrics_count_what_happened,
    the_demo_history_reads_like_a_healthy_deployment,
);

const WS: i64 = 1;
/// Monday 2026-01-05 00:00 UTC.
const T0: i64 = 1_767_571_200_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

struct History {
    team_a: i64,
    team_b: i64,
    /// Agents X and Y.
    x: i64,
    y: i64,
    /// Handoffs H1..H4 in the period (index 0..3).
    h: Vec<i64>,
    admin: String,
}

async fn insert(stack: &TestStack, sql: &str, binds: &[Option<Value>]) -> i64 {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = match b {
            None => q.bind(None::<i64>),
            Some(Value::Number(n)) => q.bind(n.as_i64().unwrap()),
            Some(Value::String(s)) => q.bind(s.clone()),
            Some(other) => panic!("bind {other}"),
        };
    }
    q.fetch_one(&stack.server.state.db.pool).await.unwrap().get("id")
}

fn n(v: i64) -> Option<Value> {
    Some(json!(v))
}
fn s(v: &str) -> Option<Value> {
    Some(json!(v))
}

async fn inbound(stack: &TestStack, conv: i64, at: i64) {
    insert(
        stack,
        "INSERT INTO messages (conversation_id, direction, author, kind, text, status, sent_at, created_at) \
         VALUES ($1, 'inbound', 'customer', 'text', 'hi', 'received', $2, $2) RETURNING id",
        &[n(conv), n(at)],
    )
    .await;
}

#[allow(clippy::too_many_arguments)]
async fn handoff(
    stack: &TestStack,
    conv: i64,
    trigger: &str,
    status: &str,
    priority: &str,
    team: i64,
    assignee: Option<i64>,
    requested: i64,
    first_response: Option<i64>,
    resolved: Option<i64>,
) -> i64 {
    insert(
        stack,
        "INSERT INTO handoffs (workspace_id, conversation_id, trigger, status, reason, priority, requested_by, team_id, \
           assignee_id, requested_at, assigned_at, first_response_at, resolved_at, returned_at) \
         VALUES (1, $1, $2, $3, 'seeded', $4, 'test', $5, $6, $7, $7, $8, $9, $9) RETURNING id",
        &[
            n(conv),
            s(trigger),
            s(status),
            s(priority),
            n(team),
            assignee.and_then(n),
            n(requested),
            first_response.and_then(n),
            resolved.and_then(n),
        ],
    )
    .await
}

/// The seeded history. Team A works Monday to Friday 09:00-17:00 UTC; team B always.
///
/// Customers write (inbound messages): C1 Mon 07:59 and Tue 16:49, C2 Mon 09:59,
/// C3 Mon 12:00, C4 Tue 03:00; C5 one ms before Monday and exactly at Wednesday 00:00.
///
/// | handoff | conv | trigger          | team | requested  | first reply | ended                |
/// |---------|------|------------------|------|------------|-------------|----------------------|
/// | H1      | C1   | keyword          | A    | Mon 08:00  | Mon 09:30   | resolved Mon 17:30   |
/// | H2      | C2   | customer_request | A    | Mon 10:00  | Mon 10:02   | resolved Mon 10:30   |
/// | H3      | C4   | keyword          | B    | Tue 03:00  | -           | timed out Tue 03:30  |
/// | H4      | C1   | low_confidence   | A    | Tue 16:50  | Wed 09:05   | open                 |
/// | (H5)    | C3   | api              | A    | Sun 23:59  | before the period   |              |
/// | (H6)    | C3   | api              | A    | Wed 00:00  | at its end: outside |              |
async fn seed_history(stack: &TestStack, api: &TestApi<'_>) -> History {
    let admin = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let (x, _) = stack.add_agent(WS, "x@console.test", "Xena", "agent").await;
    let (y, _) = stack.add_agent(WS, "y@console.test", "Yusuf", "agent").await;
    let hours = json!({ "utc_offset_minutes": 0, "days": {
        "mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]],
        "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]] } });
    let a = api
        .ok(
            "POST",
            "/v1/teams",
            &admin,
            Some(json!({ "name": "Alpha", "member_ids": [x, y], "business_hours": hours })),
        )
        .await;
    let b = api.ok("POST", "/v1/teams", &admin, Some(json!({ "name": "Bravo", "member_ids": [] }))).await;
    let (team_a, team_b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    let mut c = Vec::new();
    for i in 1..=5 {
        c.push(api.conversation(&format!("1555000000{i}")).await);
    }
    for (conv, at) in [
        (c[0], T0 + 7 * HOUR + 59 * MIN),
        (c[0], T0 + DAY + 16 * HOUR + 49 * MIN),
        (c[1], T0 + 9 * HOUR + 59 * MIN),
        (c[2], T0 + 12 * HOUR),
        (c[3], T0 + DAY + 3 * HOUR),
        (c[4], T0 - 1),
        (c[4], T0 + 2 * DAY),
    ] {
        inbound(stack, conv, at).await;
    }
    let h1 = T0 + 8 * HOUR;
    let h2 = T0 + 10 * HOUR;
    let h3 = T0 + DAY + 3 * HOUR;
    let h4 = T0 + DAY + 16 * HOUR + 50 * MIN;
    let h = vec![
        handoff(
            stack,
            c[0],
            "keyword",
            "resolved",
            "high",
            team_a,
            Some(x),
            h1,
            Some(h1 + 90 * MIN),
            Some(h1 + 9 * HOUR + 30 * MIN),
        )
        .await,
        handoff(
            stack,
            c[1],
            "customer_request",
            "resolved",
            "normal",
            team_a,
            Some(y),
            h2,
            Some(h2 + 2 * MIN),
            Some(h2 + 30 * MIN),
        )
        .await,
        handoff(stack, c[3], "keyword", "timed_out", "normal", team_b, None, h3, None, Some(h3 + 30 * MIN)).await,
        handoff(
            stack,
            c[0],
            "low_confidence",
            "resolved",
            "low",
            team_a,
            Some(x),
            h4,
            Some(T0 + 2 * DAY + 9 * HOUR + 5 * MIN),
            None,
        )
        .await,
    ];
    // Resolved needs a resolved_at; H4 is open: make it `assigned`.
    sqlx::query("UPDATE handoffs SET status = 'assigned', returned_at = NULL WHERE id = $1")
        .bind(h[3])
        .execute(&stack.server.state.db.pool)
        .await
        .unwrap();
    handoff(stack, c[2], "api", "resolved", "normal", team_a, Some(x), T0 - MIN, None, Some(T0 + HOUR)).await;
    handoff(stack, c[2], "api", "resolved", "normal", team_a, Some(x), T0 + 2 * DAY, None, Some(T0 + 2 * DAY + HOUR))
        .await;
    History { team_a, team_b, x, y, h, admin }
}

async fn report(api: &TestApi<'_>, token: &str, query: &str) -> MetricsReport {
    serde_json::from_value(api.ok("GET", &format!("/v1/metrics?{query}"), token, None).await).unwrap()
}

async fn metrics_match_the_hand_computed_history(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let hist = seed_history(&stack, &api).await;
    let t = &hist.admin;

    // Monday and Tuesday, one point per day.
    let r = report(&api, t, &format!("from={T0}&to={}&bucket_ms={DAY}", T0 + 2 * DAY)).await;
    assert_eq!(r.conversations, 4, "C1..C4 wrote; C5 wrote just before and exactly at the end");
    assert_eq!(r.handoffs, 4, "H1..H4; H5 was before, H6 at the (exclusive) end");
    assert_eq!(r.escalation_rate, 1.0);
    assert_eq!(r.healthy_band, [0.05, 0.20]);
    let points: Vec<(i64, i64, i64)> = r.series.iter().map(|p| (p.start, p.conversations, p.handoffs)).collect();
    assert_eq!(points, vec![(T0, 3, 2), (T0 + DAY, 2, 2)], "Mon: C1 C2 C3 / H1 H2; Tue: C4 C1 / H3 H4");
    assert!((r.series[0].rate - 2.0 / 3.0).abs() < 1e-9);
    // First replies: H2 2 min, H1 90 min, H4 16 h 15 min; nearest rank: the 2nd and 3rd.
    assert_eq!(r.first_response.count, 3);
    assert_eq!(r.first_response.median_ms, Some(90 * MIN));
    assert_eq!(r.first_response.p90_ms, Some(16 * HOUR + 15 * MIN));
    let bins: Vec<i64> = r.first_response.histogram.iter().map(|b| b.count).collect();
    assert_eq!(bins, vec![0, 1, 0, 0, 0, 1, 1, 0], "<=5 min, <=4 h, <=24 h");
    // Resolution (by a person): H2 30 min, H1 9 h 30 min.
    assert_eq!(r.resolution.count, 2);
    assert_eq!(r.resolution.median_ms, Some(30 * MIN));
    assert_eq!(r.resolution.p90_ms, Some(9 * HOUR + 30 * MIN));
    let triggers: Vec<(HandoffTrigger, i64)> = r.by_trigger.iter().map(|t| (t.trigger, t.handoffs)).collect();
    assert_eq!(
        triggers,
        vec![(HandoffTrigger::Keyword, 2), (HandoffTrigger::CustomerRequest, 1), (HandoffTrigger::LowConfidence, 1)]
    );
    assert_eq!(r.returned, ReturnedShare { handoffs: 4, resolved: 2, timed_out: 1, share: 0.75 });

    // In business hours (team A: 09:00-17:00 on weekdays). H1's first reply: 09:00-09:30
    // = 30 min; H2: 2 min; H4: 16:50-17:00 + 09:00-09:05 = 15 min. H1's resolution:
    // 09:00-17:00 = 8 h; H2: 30 min.
    let r = report(&api, t, &format!("from={T0}&to={}&business_hours=true", T0 + 2 * DAY)).await;
    assert_eq!(r.first_response.median_ms, Some(15 * MIN));
    assert_eq!(r.first_response.p90_ms, Some(30 * MIN));
    assert_eq!(r.resolution.median_ms, Some(30 * MIN));
    assert_eq!(r.resolution.p90_ms, Some(8 * HOUR));

    // Period boundaries: `from` is inclusive, `to` exclusive.
    let r = report(&api, t, &format!("from={T0}&to={}", T0 + 8 * HOUR)).await;
    assert_eq!((r.conversations, r.handoffs), (1, 0), "C1 at 07:59 counts; H1 at 08:00 is the end");
    assert_eq!(r.series.len(), 1, "one (short) day");
    let r = report(&api, t, &format!("from={}&to={}", T0 + 8 * HOUR, T0 + DAY)).await;
    assert_eq!((r.conversations, r.handoffs), (2, 2), "C2 C3; H1 at the start, H2");
    assert_eq!(r.returned.share, 1.0);
    // A six-hour series over Tuesday: H3 at 03:00 in the first point, H4 at 16:50 in the third.
    let r = report(&api, t, &format!("from={}&to={}&bucket_ms={}", T0 + DAY, T0 + 2 * DAY, 6 * HOUR)).await;
    let h: Vec<i64> = r.series.iter().map(|p| p.handoffs).collect();
    assert_eq!(h, vec![1, 0, 1, 0]);

    // Filters narrow the handoffs (the conversations stay the workspace's).
    let r = report(&api, t, &format!("from={T0}&to={}&team_id={}", T0 + 2 * DAY, hist.team_a)).await;
    assert_eq!((r.conversations, r.handoffs), (4, 3));
    let r = report(&api, t, &format!("from={T0}&to={}&agent_id={}", T0 + 2 * DAY, hist.x)).await;
    assert_eq!(r.handoffs, 2, "H1 and H4 are Xena's");
    let r = report(&api, t, &format!("from={T0}&to={}&trigger=keyword&priority=normal", T0 + 2 * DAY)).await;
    assert_eq!(r.handoffs, 1, "H3");
    let r = report(&api, t, &format!("from={T0}&to={}&team_id={}", T0 + 2 * DAY, hist.team_b)).await;
    assert_eq!((r.handoffs, r.first_response.count, r.first_response.median_ms), (1, 0, None));

    // Workflow executions by status, as the workflows reported them.
    for (i, status) in ["active", "active", "handoff", "failed"].iter().enumerate() {
        let path = format!("/v1/workflows/executions/exec-{i}/status");
        api.ok("PUT", &path, handoff_server::seed::DEMO_BOT_TOKEN, Some(json!({ "status": status }))).await;
    }
    let r = report(&api, t, &format!("from={T0}&to={}", T0 + DAY)).await;
    assert_eq!(r.workflows, WorkflowCounts { active: 2, handoff: 1, failed: 1, resolved: 0 });

    // Bad periods are clear errors; agents may not read metrics; the OpenAPI document
    // lists the query parameters.
    let (status, body) = api.call("GET", &format!("/v1/metrics?from={T0}&to={T0}"), t, None).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_input")));
    let (status, _) = api.call("GET", &format!("/v1/metrics?from=0&to={}&bucket_ms=1", 10 * DAY), t, None).await;
    assert_eq!(status, 422, "too many points");
    let (status, body) = api.call("GET", "/v1/metrics?from=yesterday", t, None).await;
    assert_eq!(status, 400, "{body}");
    let ana = stack.login("ana@demo.handoff.dev").await;
    let (status, body) = api.call("GET", &format!("/v1/metrics?from=0&to={DAY}"), ana.token.expose(), None).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let doc = api.ok("GET", "/openapi.json", t, None).await;
    let params: Vec<&str> = doc["paths"]["/v1/metrics"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["from", "to", "bucket_ms", "team_id", "agent_id", "priority", "trigger", "business_hours"] {
        assert!(params.contains(&p), "{p} in {params:?}");
    }
    let _ = hist.y;
}

#[allow(clippy::too_many_arguments)]
async fn clock(
    stack: &TestStack,
    h: i64,
    conv_of: i64,
    kind: &str,
    target: i64,
    warned: Option<i64>,
    breached: Option<i64>,
    stopped: Option<i64>,
) {
    insert(
        stack,
        "INSERT INTO sla_clocks (workspace_id, handoff_id, conversation_id, kind, target_ms, started_at, warned_at, \
           breached_at, stopped_at) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[n(h), n(conv_of), s(kind), n(target), n(T0), warned.and_then(n), breached.and_then(n), stopped.and_then(n)],
    )
    .await;
}

async fn conversation_of(stack: &TestStack, h: i64) -> i64 {
    sqlx::query("SELECT conversation_id FROM handoffs WHERE id = $1")
        .bind(h)
        .fetch_one(&stack.server.state.db.pool)
        .await
        .unwrap()
        .get("conversation_id")
}

async fn breaches_and_near_misses_by_team_agent_priority_and_trigger(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let hist = seed_history(&stack, &api).await;
    let [h1, h2, h3, h4] = [hist.h[0], hist.h[1], hist.h[2], hist.h[3]];
    let mut conv = Vec::new();
    for h in &hist.h {
        conv.push(conversation_of(&stack, *h).await);
    }
    // K1: H1's first response breached Mon 09:00 (warned 08:45).
    clock(&stack, h1, conv[0], "first_response", HOUR, Some(T0 + 8 * HOUR + 45 * MIN), Some(T0 + 9 * HOUR), None).await;
    // K2: H2's resolution warned at 10:20, met at 10:30: a near miss.
    clock(
        &stack,
        h2,
        conv[1],
        "resolution",
        40 * MIN,
        Some(T0 + 10 * HOUR + 20 * MIN),
        None,
        Some(T0 + 10 * HOUR + 30 * MIN),
    )
    .await;
    // K3: H3's first response breached Tue 02:00... at 03:20.
    clock(
        &stack,
        h3,
        conv[2],
        "first_response",
        20 * MIN,
        Some(T0 + DAY + 3 * HOUR + 15 * MIN),
        Some(T0 + DAY + 3 * HOUR + 20 * MIN),
        None,
    )
    .await;
    // K4: H4 warned, met exactly at the period's (exclusive) end: outside.
    clock(&stack, h4, conv[3], "first_response", HOUR, Some(T0 + DAY + 17 * HOUR), None, Some(T0 + 2 * DAY)).await;
    // K5: H4 met without a warning: not a near miss.
    clock(&stack, h4, conv[3], "next_response", HOUR, None, None, Some(T0 + DAY + 18 * HOUR)).await;
    // K6: H1's resolution breached just before the period.
    clock(&stack, h1, conv[0], "resolution", HOUR, Some(T0 - 2), Some(T0 - 1), None).await;

    let q = format!("from={T0}&to={}", T0 + 2 * DAY);
    let r: BreachReport =
        serde_json::from_value(api.ok("GET", &format!("/v1/metrics/breaches?{q}"), &hist.admin, None).await).unwrap();
    let items: Vec<(i64, &str, SlaKind, i64)> =
        r.items.iter().map(|i| (i.handoff_id.0, i.outcome.as_str(), i.kind, i.at)).collect();
    assert_eq!(
        items,
        vec![
            (h3, "breached", SlaKind::FirstResponse, T0 + DAY + 3 * HOUR + 20 * MIN),
            (h2, "near_miss", SlaKind::Resolution, T0 + 10 * HOUR + 30 * MIN),
            (h1, "breached", SlaKind::FirstResponse, T0 + 9 * HOUR),
        ],
        "newest first; K4 ends at the period's end, K5 never warned, K6 is before"
    );
    assert_eq!(r.items[0].contact_name, "Customer 15550000004");
    assert_eq!(
        (r.items[2].target_ms, r.items[2].agent_id, r.items[2].team_id),
        (HOUR, Some(AgentId(hist.x)), Some(TeamId(hist.team_a)))
    );
    let groups = |g: &[BreachGroup]| g.iter().map(|g| (g.label.clone(), g.breaches, g.near_misses)).collect::<Vec<_>>();
    assert_eq!(groups(&r.by_team), vec![("Alpha".into(), 1, 1), ("Bravo".into(), 1, 0)]);
    assert_eq!(groups(&r.by_agent), vec![("Unassigned".into(), 1, 0), ("Xena".into(), 1, 0), ("Yusuf".into(), 0, 1)]);
    assert_eq!(groups(&r.by_priority), vec![("normal".into(), 1, 1), ("high".into(), 1, 0)]);
    assert_eq!(groups(&r.by_trigger), vec![("keyword".into(), 2, 0), ("customer request".into(), 0, 1)]);
    assert_eq!(r.by_team[0].key, hist.team_a.to_string());

    // Filtered by agent, and a narrower period.
    let r: BreachReport = serde_json::from_value(
        api.ok("GET", &format!("/v1/metrics/breaches?{q}&agent_id={}", hist.x), &hist.admin, None).await,
    )
    .unwrap();
    assert_eq!(r.items.iter().map(|i| i.handoff_id.0).collect::<Vec<_>>(), vec![h1]);
    let r: BreachReport = serde_json::from_value(
        api.ok("GET", &format!("/v1/metrics/breaches?from={}&to={}", T0 + 9 * HOUR + 1, T0 + DAY), &hist.admin, None)
            .await,
    )
    .unwrap();
    assert_eq!(r.items.iter().map(|i| i.handoff_id.0).collect::<Vec<_>>(), vec![h2]);

    // Each row opens its handoff's timeline: what the clocks did, in order.
    let tl: Vec<TimelineEvent> =
        serde_json::from_value(api.ok("GET", &format!("/v1/handoffs/{h1}/timeline"), &hist.admin, None).await).unwrap();
    let kinds: Vec<&str> = tl.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["sla_warning", "sla_breached", "sla_warning", "sla_breached", "first_response", "resolved"],
        "K6 (resolution) before the period, then K1 (first response)"
    );
    assert!(tl[1].detail.contains("resolution missed its 1 h target"), "{}", tl[1].detail);
    assert!(tl[3].detail.contains("first response missed its 1 h target"), "{}", tl[3].detail);
    let _ = (hist.y, hist.team_b);
}

async fn board(api: &TestApi<'_>, token: &str) -> Board {
    serde_json::from_value(api.ok("GET", "/v1/board", token, None).await).unwrap()
}

async fn the_board_orders_by_risk_and_its_actions_are_audited(backend: Backend) {
    let stack = TestStack::start_with(backend, |c| c.offline_grace = Duration::from_secs(365 * 24 * 3600)).await;
    let api = TestApi::new(&stack);
    let admin = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    // First response within 10 minutes for urgent, 30 for the rest.
    let t = |first: u64| json!({ "first_response_secs": first, "next_response_secs": 3600, "resolution_secs": 86400 });
    let policy = json!({ "urgent": t(600), "high": t(1800), "normal": t(1800), "low": t(1800), "warning_ratio": 0.75,
        "pause_while_waiting_on_customer": true, "breach_action": "notify" });
    api.ok("PUT", "/v1/settings/sla", &admin, Some(policy)).await;
    let (kim, kim_token) = stack.add_agent(WS, "kim@console.test", "Kim", "agent").await;
    let (lee, lee_token) = stack.add_agent(WS, "lee@console.test", "Lee", "agent").await;
    let (mgr, mgr_token) = stack.add_agent(WS, "mo@console.test", "Mo", "manager").await;
    let sales =
        api.ok("POST", "/v1/teams", &admin, Some(json!({ "name": "Sales", "member_ids": [kim, lee, mgr] }))).await;
    let sales = sales["id"].as_i64().unwrap();
    let night = api.ok("POST", "/v1/teams", &admin, Some(json!({ "name": "Night", "member_ids": [] }))).await;
    let night = night["id"].as_i64().unwrap();

    // Nobody is online: everything waits. A (normal) first, then B (urgent: a 10-minute
    // clock), then C (low, in the Night team nobody staffs).
    let (a, _) = api.escalate("15551110001", json!({ "team_id": sales })).await;
    stack.server.state.clock.advance(Duration::from_secs(60));
    let (b, _) = api.escalate("15551110002", json!({ "team_id": sales, "priority": "urgent" })).await;
    let (c, _) = api.escalate("15551110003", json!({ "team_id": night, "priority": "low" })).await;
    let bd = board(&api, &mgr_token).await;
    let order: Vec<i64> = bd.conversations.iter().map(|e| e.conversation_id.0).collect();
    assert_eq!(order, vec![b, a, c], "B is due in 10 min, A in 29, C in 30");
    assert!(bd.conversations.iter().all(|e| e.status == "waiting" && !e.at_risk));
    assert_eq!(bd.conversations[0].sla_kind, Some(SlaKind::FirstResponse));
    assert_eq!(bd.conversations[0].contact_name, "Customer 15551110002");
    let team = |bd: &Board, id: i64| bd.teams.iter().find(|t| t.id.0 == id).unwrap().clone();
    assert_eq!((team(&bd, night).waiting, team(&bd, night).online_agents), (1, 0), "a queue nobody staffs");
    assert_eq!(team(&bd, sales).waiting, 2);
    assert!(team(&bd, sales).oldest_waiting_at.is_some());

    // Eight minutes later B is past its warning point (7.5 min).
    stack.server.state.clock.advance(Duration::from_secs(8 * 60));
    let bd = board(&api, &mgr_token).await;
    assert!(bd.conversations[0].at_risk && !bd.conversations[0].breached);
    // Twenty-one more (30 min after A started): A and B are breached, B most overdue
    // first; C (started a minute after A) has a minute left.
    stack.server.state.clock.advance(Duration::from_secs(21 * 60));
    handoff_server::sla::tick(&stack.server.state).await.unwrap();
    let bd = board(&api, &mgr_token).await;
    let flags: Vec<(i64, bool)> = bd.conversations.iter().map(|e| (e.conversation_id.0, e.breached)).collect();
    assert_eq!(flags, vec![(b, true), (a, true), (c, false)]);

    // Live: a board reader's event stream is poked by every action.
    let ws_url = format!("{}/v1/events", stack.url().replace("http://", "ws://"));
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url).unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {mgr_token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let hello = socket.next().await.unwrap().unwrap().into_text().unwrap();
    assert!(hello.contains("hello"), "{hello}");

    // Raise C's priority (a manager of Sales may not: Night is not their team; an admin may).
    let path = format!("/v1/conversations/{c}/priority");
    let (status, body) = api.call("PUT", &path, &mgr_token, Some(json!({ "priority": "urgent" }))).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let conv = api.ok("PUT", &path, &admin, Some(json!({ "priority": "urgent" }))).await;
    assert_eq!(conv["priority"], "urgent");
    let poke = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
    assert!(poke.into_text().unwrap().contains("poke"));
    let bd = board(&api, &mgr_token).await;
    assert!(bd.cursor > 0);
    assert_eq!(bd.conversations.iter().find(|e| e.conversation_id.0 == c).unwrap().priority, Priority::Urgent);

    // Kim comes online and takes the most urgent; the manager reassigns B to Lee, then
    // takes A over from whoever has it.
    api.availability(&kim_token, "online").await;
    api.availability(&lee_token, "online").await;
    let bd = board(&api, &mgr_token).await;
    let kim_load = bd.agents.iter().find(|x| x.id.0 == kim).unwrap();
    assert!(kim_load.open_conversations >= 1, "the queue drained to Kim and Lee");
    let b_owner = api.assignee(b).await.unwrap();
    let to = if b_owner == lee { kim } else { lee };
    api.ok("POST", &format!("/v1/conversations/{b}/assign"), &mgr_token, Some(json!({ "agent_id": to }))).await;
    assert_eq!(api.assignee(b).await, Some(to));
    let a_owner = api.assignee(a).await;
    assert!(a_owner.is_some());
    api.ok("POST", &format!("/v1/conversations/{a}/assign"), &mgr_token, Some(json!({ "agent_id": mgr }))).await;
    assert_eq!(api.assignee(a).await, Some(mgr));

    // The owner replies: their time since last reply is known; B's breach counts as at
    // risk for its owner.
    let to_token = if to == kim { &kim_token } else { &lee_token };
    api.ok(
        "POST",
        &format!("/v1/conversations/{b}/messages"),
        to_token,
        Some(json!({ "text": "On it", "client_id": "reply-1" })),
    )
    .await;
    let bd = board(&api, &mgr_token).await;
    let owner = bd.agents.iter().find(|x| x.id.0 == to).unwrap();
    assert!(owner.last_reply_at.is_some());
    assert!(owner.team_ids.contains(&TeamId(sales)));
    let mo = bd.agents.iter().find(|x| x.id.0 == mgr).unwrap();
    assert_eq!((mo.open_conversations, mo.at_risk), (1, 1), "A is breached and Mo's now");

    // Every action is in the audit log, and in the handoff's timeline.
    let audit = api.ok("GET", "/v1/audit", &admin, None).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["conversation.priority_changed", "conversation.overridden", "conversation.taken_over"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let h = bd.conversations.iter().find(|e| e.conversation_id.0 == a).unwrap().handoff_id;
    let tl: Vec<TimelineEvent> =
        serde_json::from_value(api.ok("GET", &format!("/v1/handoffs/{h}/timeline"), &admin, None).await).unwrap();
    let kinds: Vec<&str> = tl.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"requested"));
    assert!(kinds.contains(&"routed") && kinds.contains(&"taken_over") && kinds.contains(&"sla_breached"), "{kinds:?}");
    let took = tl.iter().find(|e| e.kind == "taken_over").unwrap();
    assert_eq!(took.actor.as_deref(), Some("Mo"));
    assert!(took.detail.ends_with("to Mo"), "{}", took.detail);

    // Agents and viewers see no board; another workspace's handoff is not found.
    let (status, _) = api.call("GET", "/v1/board", &kim_token, None).await;
    assert_eq!(status, 403);
    let (status, body) = api.call("GET", "/v1/handoffs/999999/timeline", &admin, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

/// The value of one sample (`name{labels} value`) in the exposition text.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    let key = if labels.is_empty() { name.to_owned() } else { format!("{name}{{{labels}}}") };
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(key.as_str()))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in\n{text}"))
}

async fn scrape(stack: &TestStack, token: &str) -> String {
    let resp = reqwest::Client::new().get(format!("{}/metrics", stack.url())).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    resp.text().await.unwrap()
}

async fn prometheus_metrics_count_what_happened(backend: Backend) {
    let stack = TestStack::start_with(backend, |c| c.offline_grace = Duration::from_secs(365 * 24 * 3600)).await;
    let api = TestApi::new(&stack);
    let admin = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let before = scrape(&stack, &admin).await;
    assert_eq!(sample(&before, "handoff_send_queue_depth", ""), 0.0);

    // Three customers write; one bad signature; one unreadable body.
    for i in 1..=3 {
        api.conversation(&format!("1555222000{i}")).await;
    }
    let http = reqwest::Client::new();
    let hook = format!("{}/webhooks/whatsapp", stack.url());
    let r = http.post(&hook).header("x-hub-signature-256", "sha256=00").body("{}").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body = b"{not json";
    let sig = handoff_whatsapp::signature::sign("test-app-secret", body);
    let r = http.post(&hook).header("x-hub-signature-256", sig).body(&body[..]).send().await.unwrap();
    assert_eq!(r.status(), 400, "a signed body that is not JSON is refused, with a clear error");

    // Two waiting handoffs (high, normal), nobody online.
    let (conv, _) = api.escalate("15552220010", json!({ "priority": "high" })).await;
    api.escalate("15552220011", json!({})).await;
    let queued = scrape(&stack, &admin).await;
    assert_eq!(sample(&queued, "handoff_queue_length", "priority=\"high\""), 1.0);
    assert_eq!(sample(&queued, "handoff_queue_length", "priority=\"normal\""), 1.0);
    assert_eq!(sample(&queued, "handoff_queue_length", "priority=\"low\""), 0.0);

    // A send Meta refuses for good (131026: undeliverable).
    stack.sandbox.sandbox.fail_next_sends(131026, 1).await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    api.availability(ana.token.expose(), "online").await;
    api.ok("POST", &format!("/v1/conversations/{conv}/assign"), &admin, Some(json!({ "agent_id": ana.agent.id })))
        .await;
    api.ok(
        "POST",
        &format!("/v1/conversations/{conv}/messages"),
        ana.token.expose(),
        Some(json!({ "text": "hi", "client_id": "reply-1" })),
    )
    .await;

    // A live connection, poked.
    let ws_url = format!("{}/v1/events", stack.url().replace("http://", "ws://"));
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url).unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {admin}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    socket.next().await.unwrap().unwrap();
    api.ok("PUT", &format!("/v1/conversations/{conv}/priority"), &admin, Some(json!({ "priority": "urgent" }))).await;
    tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();

    // SLA: move the clock past every first-response target.
    stack.server.state.clock.advance(Duration::from_secs(48 * 3600));
    stack.server.state.sla_wake.notify_one();

    let text = eventually(15, "the send failure and the breaches", || async {
        let t = scrape(&stack, &admin).await;
        let failed = t.contains("handoff_send_failures_total{code=\"131026\",retried=\"false\"} 1");
        let breached = t.lines().any(|l| l.starts_with("handoff_sla_breaches_total{kind=\"first_response\"}"));
        (failed && breached).then_some(t)
    })
    .await;
    assert_eq!(sample(&text, "handoff_webhook_requests_total", "outcome=\"bad_signature\""), 1.0);
    assert_eq!(sample(&text, "handoff_webhook_requests_total", "outcome=\"malformed\""), 1.0);
    assert!(sample(&text, "handoff_webhook_requests_total", "outcome=\"accepted\"") >= 5.0, "5 customers wrote");
    assert!(sample(&text, "handoff_webhook_messages_total", "") >= 5.0);
    assert_eq!(sample(&text, "handoff_queue_length", "priority=\"high\""), 0.0, "Ana took both when she came online");
    assert!(sample(&text, "handoff_sla_breaches_total", "kind=\"first_response\"") >= 1.0);
    assert_eq!(sample(&text, "handoff_connected_clients", ""), 1.0);
    assert!(sample(&text, "handoff_event_fanout_lag_seconds_count", "") >= 1.0);
    assert!(sample(&text, "handoff_agents", "availability=\"online\"") >= 1.0);
    assert!(text.trim_end().ends_with("# EOF"));

    // People without the scope may not scrape; API tokens need `metrics:read`.
    let (status, _) = api.call("GET", "/metrics", ana.token.expose(), None).await;
    assert_eq!(status, 403);
    let token = api
        .ok("POST", "/v1/api-tokens", &admin, Some(json!({ "name": "prometheus", "scopes": ["metrics:read"] })))
        .await;
    let secret = token["token"].as_str().unwrap();
    assert!(scrape(&stack, secret).await.contains("handoff_queue_length"));
    drop(socket);
}

async fn the_demo_history_reads_like_a_healthy_deployment(backend: Backend) {
    let stack = TestStack::start_with(backend, |c| c.demo_history = true).await;
    let api = TestApi::new(&stack);
    let admin = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let now = handoff_server::db::now_ms();
    let q = format!("from={}&to={now}", now - 15 * DAY);
    let r = report(&api, &admin, &q).await;
    assert!(r.conversations > 500, "{} conversations in two weeks", r.conversations);
    assert!((0.08..=0.16).contains(&r.escalation_rate), "escalation rate {}", r.escalation_rate);
    assert!(r.series.iter().filter(|p| p.conversations > 0).count() == 14, "every day has customers");
    assert!(r.first_response.count > 30 && r.first_response.median_ms < r.first_response.p90_ms);
    assert!(r.returned.timed_out > 0 && r.returned.share == 1.0, "all finished: {:?}", r.returned);
    assert!(r.by_trigger.len() >= 4);
    let b: BreachReport =
        serde_json::from_value(api.ok("GET", &format!("/v1/metrics/breaches?{q}"), &admin, None).await).unwrap();
    let breaches = b.items.iter().filter(|i| i.outcome == "breached").count();
    assert!(breaches > 0 && breaches < b.items.len(), "breaches and near misses: {}", b.items.len());
    // The demo agents' own inboxes stay empty: colleagues worked the past shifts.
    let ana = stack.login("ana@demo.handoff.dev").await;
    let mine = api.ok("GET", "/v1/conversations", ana.token.expose(), None).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(0), "{mine}");
    // Nothing waits to be processed or sent; a restart seeds nothing twice.
    let pool = &stack.server.state.db.pool;
    let pending: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM messages WHERE (direction = 'inbound' AND processed_at IS NULL) OR status IN ('queued', 'sending')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
    .get("n");
    assert_eq!(pending, 0);
    let before: i64 = sqlx::query("SELECT COUNT(*) AS n FROM handoffs").fetch_one(pool).await.unwrap().get("n");
    let mut tx = stack.server.state.db.begin_write().await.unwrap();
    handoff_server::seed::seed_history(&mut tx, now).await.unwrap();
    tx.commit().await.unwrap();
    let after: i64 = sqlx::query("SELECT COUNT(*) AS n FROM handoffs").fetch_one(pool).await.unwrap().get("n");
    assert_eq!(before, after);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stack.sandbox.sandbox.sent().await.is_empty(), "the history sends nothing");
}
