//! Sign-in and tokens over real HTTP, on SQLite and PostgreSQL: short access tokens
//! with rotating refresh tokens (a reused one revokes the session), the session list
//! and signing a device out, login rate limiting, password change and admin reset,
//! and scoped API tokens.

use std::time::Duration;

use handoff_protocol::*;
use handoff_server::testkit::{TestApi, TestStack};
use handoff_server::{on_both_backends, Backend};
use serde_json::{json, Value};

on_both_backends!(
    access_tokens_expire_and_refresh_tokens_rotate,
    sessions_are_listed_and_signed_out,
    failed_logins_are_rate_limited,
    passwords_are_changed_and_reset_by_admins,
    api_tokens_carry_scopes,
);

async fn login(stack: &TestStack, email: &str, password: &str, agent: &str) -> (u16, Value, Option<String>) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", stack.url()))
        .header("user-agent", agent)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, r.json().await.unwrap(), retry)
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}")).to_owned()
}

async fn access_tokens_expire_and_refresh_tokens_rotate(backend: Backend) {
    let stack = TestStack::start_with(backend, |c| c.access_ttl = Duration::from_secs(1)).await;
    let api = TestApi::new(&stack);
    let (status, first, _) = login(&stack, "ana@demo.handoff.dev", "handoff-demo", "Handoff Inbox/1.0 (Linux)").await;
    assert_eq!(status, 200);
    let (access, refresh) = (s(&first, "token"), s(&first, "refresh_token"));
    assert!(first["expires_at"].as_i64().unwrap() < first["refresh_expires_at"].as_i64().unwrap());
    api.ok("GET", "/v1/me", &access, None).await;
    // A refresh token is not an access token.
    let (status, err) = api.call("GET", "/v1/me", &refresh, None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, err) = api.call("GET", "/v1/me", &access, None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_expired")));

    let renewed = api.ok("POST", "/v1/auth/refresh", "", Some(json!({ "refresh_token": refresh }))).await;
    let (access2, refresh2) = (s(&renewed, "token"), s(&renewed, "refresh_token"));
    assert_ne!(refresh2, refresh);
    api.ok("GET", "/v1/me", &access2, None).await;
    // The old refresh token again: somebody copied it. The session is revoked.
    let (status, err) = api.call("POST", "/v1/auth/refresh", "", Some(json!({ "refresh_token": refresh }))).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_revoked")));
    let (status, err) = api.call("GET", "/v1/me", &access2, None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_revoked")));
    let (status, _) = api.call("POST", "/v1/auth/refresh", "", Some(json!({ "refresh_token": refresh2 }))).await;
    assert_eq!(status, 401);
    let (status, err) =
        api.call("POST", "/v1/auth/refresh", "", Some(json!({ "refresh_token": "hor_nonsense" }))).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
}

async fn sessions_are_listed_and_signed_out(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let (_, laptop, _) = login(&stack, "ben@demo.handoff.dev", "handoff-demo", "Handoff Inbox (laptop)").await;
    let (_, phone, _) = login(&stack, "ben@demo.handoff.dev", "handoff-demo", "Handoff Inbox (desktop 2)").await;
    let list: Vec<SessionInfo> = stack.get_json("/v1/auth/sessions", &s(&laptop, "token")).await;
    assert_eq!(list.len(), 2);
    let current = list.iter().find(|x| x.current).unwrap();
    assert_eq!(current.user_agent.as_deref(), Some("Handoff Inbox (laptop)"));
    let other = list.iter().find(|x| !x.current).unwrap();
    assert_eq!(other.id, phone["session_id"].as_i64().unwrap());
    // Sign the other device out from the laptop: its tokens stop working.
    api.ok("DELETE", &format!("/v1/auth/sessions/{}", other.id), &s(&laptop, "token"), None).await;
    let (status, err) = api.call("GET", "/v1/me", &s(&phone, "token"), None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_revoked")));
    let (status, _) =
        api.call("POST", "/v1/auth/refresh", "", Some(json!({ "refresh_token": s(&phone, "refresh_token") }))).await;
    assert_eq!(status, 401);
    // Someone else's session is not there for Ana; the admin may end it.
    let ana = stack.login("ana@demo.handoff.dev").await;
    let (status, _) =
        api.call("DELETE", &format!("/v1/auth/sessions/{}", laptop["session_id"]), ana.token.expose(), None).await;
    assert_eq!(status, 404);
    // Logging out ends the session, refresh token included.
    api.ok("POST", "/v1/auth/logout", &s(&laptop, "token"), None).await;
    let (status, _) =
        api.call("POST", "/v1/auth/refresh", "", Some(json!({ "refresh_token": s(&laptop, "refresh_token") }))).await;
    assert_eq!(status, 401);
    let list: Vec<SessionInfo> = stack.get_json("/v1/auth/sessions", ana.token.expose()).await;
    assert_eq!(list.len(), 1);
}

async fn failed_logins_are_rate_limited(backend: Backend) {
    let stack = TestStack::start(backend).await;
    for i in 0..5 {
        let (status, err, _) = login(&stack, "maya@demo.handoff.dev", "wrong", "t").await;
        assert_eq!((status, err["code"].as_str()), (401, Some("invalid_credentials")), "attempt {i}");
    }
    // Now even the right password waits, with a clear error and when to come back.
    let (status, err, retry) = login(&stack, "maya@demo.handoff.dev", "handoff-demo", "t").await;
    assert_eq!((status, err["code"].as_str()), (429, Some("rate_limited")));
    let secs = err["details"]["retry_after_secs"].as_i64().unwrap();
    assert!((1..=900).contains(&secs), "{secs}");
    assert_eq!(retry, Some(secs.to_string()));
    // Other people are not locked out.
    let (status, _, _) = login(&stack, "ben@demo.handoff.dev", "handoff-demo", "t").await;
    assert_eq!(status, 200);
    // An admin reset lifts the lock.
    let omar = stack.login("omar@demo.handoff.dev").await;
    let maya_id = {
        let agents: Vec<AgentProfile> = stack.get_json("/v1/agents", omar.token.expose()).await;
        agents.iter().find(|a| a.email == "maya@demo.handoff.dev").unwrap().id
    };
    TestApi::new(&stack)
        .ok(
            "POST",
            &format!("/v1/agents/{maya_id}/password"),
            omar.token.expose(),
            Some(json!({ "new_password": "a-long-new-password" })),
        )
        .await;
    let (status, _, _) = login(&stack, "maya@demo.handoff.dev", "a-long-new-password", "t").await;
    assert_eq!(status, 200);
}

async fn passwords_are_changed_and_reset_by_admins(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let ana = stack.login("ana@demo.handoff.dev").await;
    let other = stack.login("ana@demo.handoff.dev").await;
    let t = ana.token.expose();
    let (status, _) = api
        .call(
            "POST",
            "/v1/me/password",
            t,
            Some(json!({ "current_password": "nope", "new_password": "long enough now" })),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = api
        .call(
            "POST",
            "/v1/me/password",
            t,
            Some(json!({ "current_password": "handoff-demo", "new_password": "short" })),
        )
        .await;
    assert_eq!(status, 422);
    api.ok(
        "POST",
        "/v1/me/password",
        t,
        Some(json!({ "current_password": "handoff-demo", "new_password": "long enough now" })),
    )
    .await;
    api.ok("GET", "/v1/me", t, None).await;
    let (status, _) = api.call("GET", "/v1/me", other.token.expose(), None).await;
    assert_eq!(status, 401, "other devices are signed out");
    assert_eq!(login(&stack, "ana@demo.handoff.dev", "long enough now", "t").await.0, 200);

    // Only admins reset; a reset signs the person out everywhere.
    let ben = stack.login("ben@demo.handoff.dev").await;
    let (status, _) = api
        .call(
            "POST",
            &format!("/v1/agents/{}/password", ana.agent.id),
            ben.token.expose(),
            Some(json!({ "new_password": "x".repeat(12) })),
        )
        .await;
    assert_eq!(status, 403);
    let omar = stack.login("omar@demo.handoff.dev").await;
    api.ok(
        "POST",
        &format!("/v1/agents/{}/password", ana.agent.id),
        omar.token.expose(),
        Some(json!({ "new_password": "reset-by-omar" })),
    )
    .await;
    let (status, err) = api.call("GET", "/v1/me", t, None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_revoked")));
    assert_eq!(login(&stack, "ana@demo.handoff.dev", "reset-by-omar", "t").await.0, 200);
    let log: Vec<Value> =
        serde_json::from_value(api.ok("GET", "/v1/audit?action=agent.password_reset", omar.token.expose(), None).await)
            .unwrap();
    assert_eq!(log.len(), 1);
}

async fn api_tokens_carry_scopes(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let ana = stack.login("ana@demo.handoff.dev").await.token.expose().to_owned();
    let req = json!({ "name": "crm-sync", "scopes": ["conversations:read"] });
    let (status, _) = api.call("POST", "/v1/api-tokens", &ana, Some(req.clone())).await;
    assert_eq!(status, 403);
    let (status, err) =
        api.call("POST", "/v1/api-tokens", &omar, Some(json!({ "name": "x", "scopes": ["everything"] }))).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid_input")));
    let created = api.ok("POST", "/v1/api-tokens", &omar, Some(req)).await;
    let token = s(&created, "token");
    assert!(token.starts_with("hoa_"));
    // It reads; it may not hand off, manage webhooks or change settings.
    let conv = api.conversation("487000").await;
    api.ok("GET", "/v1/conversations", &token, None).await;
    for (method, path, body) in [
        ("POST", format!("/v1/conversations/{conv}/handoff"), json!({ "reason": "x" })),
        ("POST", "/v1/webhooks".to_owned(), json!({ "url": "http://127.0.0.1:9/h", "events": ["*"] })),
        ("PUT", "/v1/settings/handoff".to_owned(), json!({})),
    ] {
        let (status, err) = api.call(method, &path, &token, Some(body)).await;
        assert_eq!((status, err["code"].as_str()), (403, Some("forbidden")), "{method} {path}");
    }
    // The list never shows secrets; revoking ends it.
    let list = api.ok("GET", "/v1/api-tokens", &omar, None).await;
    let listed = list.as_array().unwrap().iter().find(|t| t["name"] == "crm-sync").unwrap().clone();
    assert!(listed.get("token").is_none());
    assert_eq!(listed["scopes"], json!(["conversations:read"]));
    api.ok("DELETE", &format!("/v1/api-tokens/{}", listed["id"]), &omar, None).await;
    let (status, err) = api.call("GET", "/v1/conversations", &token, None).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_revoked")));
    // The demo bot token (made before scopes) may still do everything.
    api.ok(
        "POST",
        &format!("/v1/conversations/{conv}/handoff"),
        handoff_server::seed::DEMO_BOT_TOKEN,
        Some(json!({ "reason": "x" })),
    )
    .await;
}
