//! The API as documented, on SQLite and PostgreSQL: `/openapi.json` is a valid
//! OpenAPI 3.1 document covering every route, and the authorization matrix holds for
//! every operation x every role (admin, manager, agent, viewer), an API token, no
//! token, and an admin of another workspace.
//!
//! Phase one makes every call that must be refused (and checks that it changed
//! nothing visible); phase two every call that must be allowed past authorization
//! (it may still fail for other reasons: a 409 or 422 is fine, a 401 or 403 is not).

use std::collections::BTreeMap;

use handoff_protocol::*;
use handoff_server::openapi::{routes, Access};
use handoff_server::testkit::{eventually, TestApi, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};
use sqlx::Row;

on_both_backends!(every_operation_for_every_role_and_workspace);

const CUSTOMER: &str = "4860000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Nobody,
    OtherWorkspace,
    Api,
    Role(RoleKey),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RoleKey {
    Admin,
    Manager,
    Agent,
    Viewer,
}

impl RoleKey {
    fn role(self) -> Role {
        match self {
            RoleKey::Admin => Role::Admin,
            RoleKey::Manager => Role::Manager,
            RoleKey::Agent => Role::Agent,
            RoleKey::Viewer => Role::Viewer,
        }
    }
}

struct Fixture {
    ids: BTreeMap<&'static str, i64>,
    agents: BTreeMap<RoleKey, (i64, &'static str)>,
    gus: i64,
    ws2: i64,
}

async fn token_for(stack: &TestStack, ws: i64, agent: i64) -> String {
    let mut tx = stack.server.state.db.begin_write().await.unwrap();
    let (t, _) = handoff_server::auth::issue_token(&mut tx, ws, Some(agent), "session", "matrix", Some(3_600_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    t.expose().to_owned()
}

fn path_for(path: &str, f: &Fixture) -> String {
    let id = |k: &str| f.ids[k].to_string();
    let key = if path.starts_with("/v1/conversations/") {
        "conversation"
    } else if path.starts_with("/v1/auth/sessions/") {
        "session"
    } else if path.starts_with("/v1/agents/") {
        "agent"
    } else if path.starts_with("/v1/api-tokens/") {
        "api_token"
    } else if path.starts_with("/v1/me/mentions/") {
        "mention"
    } else if path.starts_with("/v1/teams/") {
        "team"
    } else if path.starts_with("/v1/routing-rules/") {
        "rule"
    } else if path.starts_with("/v1/canned-responses/") {
        "canned"
    } else if path.starts_with("/v1/contacts/") {
        "contact"
    } else if path.starts_with("/v1/automations/") {
        "automation"
    } else if path.starts_with("/v1/handoffs/") {
        "handoff"
    } else if path.starts_with("/v1/media/") {
        "message"
    } else if path.starts_with("/v1/webhooks/deliveries/") {
        "delivery"
    } else if path.starts_with("/v1/webhooks/") {
        "webhook"
    } else {
        ""
    };
    let mut out = String::new();
    for seg in path.split('/').skip(1) {
        out.push('/');
        if seg == "{execution_id}" {
            out.push_str("exec-matrix");
        } else if seg.starts_with('{') {
            out.push_str(&id(key));
        } else {
            out.push_str(seg);
        }
    }
    out
}

fn body_for(method: &str, path: &str, f: &Fixture, n: usize, password: &str) -> Option<Value> {
    let team = f.ids["team"];
    let conv = f.ids["conversation"];
    let ana = f.agents[&RoleKey::Agent].0;
    Some(match (method, path) {
        ("post", "/v1/me/password") => json!({ "current_password": password, "new_password": password }),
        ("post", "/v1/agents/{id}/password") => json!({ "new_password": "handoff-demo" }),
        ("post", "/v1/api-tokens") => json!({ "name": format!("m{n}"), "scopes": ["conversations:read"] }),
        ("put", "/v1/me/availability") => json!({ "availability": "offline" }),
        ("post", "/v1/me/heartbeat") => json!({ "active": false }),
        ("post", "/v1/conversations/{id}/messages") => json!({ "client_id": format!("mx{n}"), "text": "hello" }),
        ("post", "/v1/conversations/{id}/template") => {
            json!({ "client_id": format!("tx{n}"), "name": "order_update", "language": "en_US", "parameters": ["a", "b"] })
        }
        ("post", "/v1/conversations/{id}/handoff") => json!({ "reason": "matrix" }),
        ("post", "/v1/conversations/{id}/resolve") => json!({}),
        ("post", "/v1/conversations/{id}/assign") => json!({ "agent_id": ana }),
        ("put", "/v1/conversations/{id}/priority") => json!({ "priority": "high" }),
        ("post", "/v1/conversations/{id}/transfer") => json!({ "agent_id": ana, "note": "over to you" }),
        ("post", "/v1/conversations/{id}/notes") => json!({ "text": "internal" }),
        ("put", "/v1/conversations/{id}/labels") => json!(["matrix"]),
        ("put", "/v1/conversations/{id}/presence") => json!({ "state": "viewing" }),
        ("post", "/v1/conversations/{id}/bot-messages") => json!({ "text": "bot says hi" }),
        ("put", "/v1/contacts/{id}/attributes") => json!({ "tier": "gold" }),
        ("post", "/v1/teams") => json!({ "name": format!("Team {n}") }),
        ("patch", "/v1/teams/{id}") => json!({ "strategy": "round_robin" }),
        ("patch", "/v1/agents/{id}") => json!({ "capacity": 5 }),
        ("post", "/v1/routing-rules") => json!({ "name": format!("rule {n}"), "team_id": team }),
        ("patch", "/v1/routing-rules/{id}") => json!({ "enabled": true }),
        ("put", "/v1/settings/sla") => json!({}),
        ("post", "/v1/canned-responses") => {
            json!({ "team_id": team, "shortcut": format!("s{n}"), "title": "t", "body": "b" })
        }
        ("patch", "/v1/canned-responses/{id}") => json!({ "title": "t2" }),
        ("post", "/v1/canned-responses/{id}/render") => json!({ "conversation_id": conv }),
        ("put", "/v1/settings/triggers") => json!({}),
        ("put", "/v1/settings/handoff") => json!({}),
        ("post", "/v1/automations") => json!({ "name": format!("a{n}"), "webhook_url": "http://127.0.0.1:9/a" }),
        ("put", "/v1/workflows/executions/{execution_id}/status") => json!({ "status": "active" }),
        ("post", "/v1/leads/handoff") => json!({}),
        ("post", "/v1/numbers") => json!({ "phone_number_id": format!("{}", 100_000_000_000_900u64 + n as u64) }),
        ("post", "/v1/webhooks") => json!({ "url": "http://127.0.0.1:9/h", "events": ["*"] }),
        ("patch", "/v1/webhooks/{id}") => json!({ "enabled": true }),
        _ => return None,
    })
}

async fn call(stack: &TestStack, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, String) {
    let url = format!("{}{path}", stack.url());
    let http = reqwest::Client::new();
    let mut req = match method {
        "get" => http.get(url),
        "post" => http.post(url),
        "put" => http.put(url),
        "patch" => http.patch(url),
        "delete" => http.delete(url),
        other => panic!("method {other}"),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn every_operation_for_every_role_and_workspace(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let state = &stack.server.state;

    // The document: valid OpenAPI 3.1 (checked by an independent validator), one
    // operation per route, each saying who may call it.
    let (status, doc_text) = call(&stack, "get", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&doc_text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let table = routes();
    for r in &table {
        let op = &doc["paths"][r.path][r.method];
        assert!(op.is_object(), "{} {} missing from the document", r.method, r.path);
        assert_eq!(op["x-handoff-access"]["api_token_scope"], json!(r.access.scope()));
    }
    let ops: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(ops, table.len());
    assert!(doc["components"]["schemas"]["Conversation"].is_object());
    validate_openapi(&doc_text);

    // The fixture: Acme (workspace 1) with a person of each role, a conversation that
    // Ana owns, and one of everything; Globex (another workspace) with its admin.
    let omar = stack.login("omar@demo.handoff.dev").await;
    let maya = stack.login("maya@demo.handoff.dev").await;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let (vic, _) = stack.add_agent(1, "vic@demo.test", "Vic Viewer", "viewer").await;
    let (ws2, gus) = {
        let mut tx = state.db.begin_write().await.unwrap();
        let ws = handoff_server::seed::create_workspace(&mut tx, "Globex").await.unwrap();
        tx.commit().await.unwrap();
        let (gus, _) = stack.add_agent(ws, "gus@globex.test", "Gus", "admin").await;
        (ws, gus)
    };
    let (omar_t, ana_t) = (omar.token.expose().to_owned(), ana.token.expose().to_owned());
    api.ok("PUT", "/v1/me/availability", &ana_t, Some(json!({ "availability": "online" }))).await;
    let (conv, owner) = api.escalate(CUSTOMER, json!({})).await;
    assert_eq!(owner, Some(ana.agent.id.0));
    let d: ConversationDetail = stack.get_json(&format!("/v1/conversations/{conv}"), &ana_t).await;
    let team = d.conversation.team_id.unwrap().0;
    let note: Message = serde_json::from_value(
        api.ok("POST", &format!("/v1/conversations/{conv}/notes"), &omar_t, Some(json!({ "text": "@ana look" }))).await,
    )
    .unwrap();
    let mentions: Vec<Mention> = stack.get_json("/v1/me/mentions", &ana_t).await;
    let rule = api.ok("POST", "/v1/routing-rules", &omar_t, Some(json!({ "name": "fixture", "team_id": team }))).await;
    let canned = api
        .ok(
            "POST",
            "/v1/canned-responses",
            &omar_t,
            Some(json!({ "team_id": team, "shortcut": "fx", "title": "t", "body": "b" })),
        )
        .await;
    let token = api
        .ok("POST", "/v1/api-tokens", &omar_t, Some(json!({ "name": "fixture", "scopes": ["conversations:read"] })))
        .await;
    let hook =
        api.ok("POST", "/v1/webhooks", &omar_t, Some(json!({ "url": "http://127.0.0.1:9/h", "events": ["*"] }))).await;
    let automation = api
        .ok(
            "POST",
            "/v1/automations",
            &omar_t,
            Some(json!({ "name": "fixture", "webhook_url": "http://127.0.0.1:9/a" })),
        )
        .await;
    let delivery: i64 = eventually(10, "a webhook delivery", || async {
        sqlx::query("SELECT id FROM webhook_outbox ORDER BY id LIMIT 1")
            .fetch_optional(&state.db.pool)
            .await
            .unwrap()
            .map(|r| r.get::<i64, _>("id"))
    })
    .await;
    let f = Fixture {
        ids: BTreeMap::from([
            ("conversation", conv),
            ("session", ana.session_id.unwrap()),
            ("agent", ana.agent.id.0),
            ("api_token", token["id"].as_i64().unwrap()),
            ("mention", mentions[0].id),
            ("team", team),
            ("rule", rule["id"].as_i64().unwrap()),
            ("canned", canned["id"].as_i64().unwrap()),
            ("contact", d.conversation.contact.id.0),
            ("automation", automation["id"].as_i64().unwrap()),
            ("message", note.id.0),
            ("handoff", d.handoffs[0].id.0),
            ("webhook", hook["id"].as_i64().unwrap()),
            ("delivery", delivery),
        ]),
        agents: BTreeMap::from([
            (RoleKey::Admin, (omar.agent.id.0, "handoff-demo")),
            (RoleKey::Manager, (maya.agent.id.0, "handoff-demo")),
            (RoleKey::Agent, (ana.agent.id.0, "handoff-demo")),
            (RoleKey::Viewer, (vic, "test-password")),
        ]),
        gus,
        ws2,
    };
    let everyone = [
        Who::Nobody,
        Who::OtherWorkspace,
        Who::Api,
        Who::Role(RoleKey::Admin),
        Who::Role(RoleKey::Manager),
        Who::Role(RoleKey::Agent),
        Who::Role(RoleKey::Viewer),
    ];
    let allowed = |access: Access, who: Who| match who {
        Who::Nobody => access == Access::Public,
        Who::OtherWorkspace => false, // allowed by role, but must see nothing of Acme
        Who::Api => access.scope().is_some(),
        Who::Role(r) => access.roles().contains(&r.role()),
    };
    let snapshot = || async {
        // What a refused call must not change (not the change log: delivery
        // statuses arrive meanwhile).
        let mut out = Vec::new();
        for sql in [
            "SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.workspace_id = 1",
            "SELECT COUNT(*) AS n FROM handoffs WHERE workspace_id = 1",
            "SELECT COUNT(*) AS n FROM teams WHERE workspace_id = 1",
            "SELECT COUNT(*) AS n FROM routing_rules WHERE workspace_id = 1",
            "SELECT COUNT(*) AS n FROM canned_responses WHERE workspace_id = 1",
            "SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE workspace_id = 1",
            "SELECT COUNT(*) AS n FROM audit_log WHERE workspace_id = 1",
        ] {
            let n: i64 = sqlx::query(sql).fetch_one(&state.db.pool).await.unwrap().get("n");
            out.push(n);
        }
        out
    };

    let mut n = 0;
    let mut failures = Vec::new();
    // Phase one: refusals.
    let before = snapshot().await;
    for r in &table {
        if r.access == Access::Public {
            continue; // checked below: they answer without a token
        }
        for who in everyone {
            if allowed(r.access, who) {
                continue;
            }
            n += 1;
            let token = match who {
                Who::Nobody => None,
                Who::Api => Some(handoff_server::seed::DEMO_BOT_TOKEN.to_owned()),
                Who::OtherWorkspace => Some(token_for(&stack, f.ws2, f.gus).await),
                Who::Role(k) => Some(token_for(&stack, 1, f.agents[&k].0).await),
            };
            let password = match who {
                Who::Role(k) => f.agents[&k].1,
                _ => "x",
            };
            let path = path_for(r.path, &f);
            let (status, body) =
                call(&stack, r.method, &path, token.as_deref(), body_for(r.method, r.path, &f, n, password)).await;
            let ok = match who {
                Who::Nobody => status == 401,
                // Another workspace: nothing of Acme exists for them (or they may not).
                Who::OtherWorkspace => {
                    let by_role = r.access.roles().contains(&Role::Admin);
                    if !by_role {
                        status == 403
                    } else if r.path.contains('{') && !r.path.starts_with("/v1/workflows/") {
                        status == 404 || status == 403
                    } else {
                        !body.contains(CUSTOMER) && status != 401
                    }
                }
                _ => status == 403,
            };
            if !ok {
                failures.push(format!("{} {} as {who:?}: {status} {body}", r.method, path));
            }
        }
    }
    let after = snapshot().await;
    if after != before {
        failures.push(format!("refused calls changed Acme's rows (messages, handoffs, teams, rules, canned, webhooks, audit): {before:?} -> {after:?}"));
    }
    // Phase two: calls that must get past authorization.
    for r in &table {
        for who in everyone {
            if !allowed(r.access, who) || who == Who::OtherWorkspace {
                continue;
            }
            n += 1;
            let token = match who {
                Who::Nobody => None,
                Who::Api => Some(handoff_server::seed::DEMO_BOT_TOKEN.to_owned()),
                Who::OtherWorkspace => unreachable!(),
                Who::Role(k) => Some(token_for(&stack, 1, f.agents[&k].0).await),
            };
            let password = match who {
                Who::Role(k) => f.agents[&k].1,
                _ => "x",
            };
            let path = path_for(r.path, &f);
            let body = if r.path == "/v1/auth/login" {
                Some(json!({ "email": "ben@demo.handoff.dev", "password": "handoff-demo" }))
            } else if r.path == "/v1/auth/refresh" {
                Some(json!({ "refresh_token": ana.refresh_token.as_ref().unwrap().expose() }))
            } else {
                body_for(r.method, r.path, &f, n, password)
            };
            let (status, text) = call(&stack, r.method, &path, token.as_deref(), body).await;
            let ok = match r.access {
                // Public routes need no token (the webhook's own signature check answers 401).
                Access::Public => status != 404 && status != 405 && (status != 401 || r.path == "/webhooks/whatsapp"),
                _ => status != 401 && status != 403,
            };
            if !ok {
                failures.push(format!("{} {} as {who:?}: {status} {text}", r.method, path));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} calls broke the matrix:\n{}", failures.len(), failures.join("\n"));
}

/// Checks the document with the `openapi-spec-validator` Python package.
fn validate_openapi(doc: &str) {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-venv/bin/python");
    assert!(python.exists(), "{} missing: run `make test` (scripts/install-deps.sh creates it)", python.display());
    let script =
        "import json,sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))\nprint('valid')";
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(doc.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not valid OpenAPI 3.1: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "valid");
}
