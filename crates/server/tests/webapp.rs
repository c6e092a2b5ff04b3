//! The web inbox served by the server itself, and CORS for an inbox embedded elsewhere.

use handoff_server::testkit::TestStack;
use handoff_server::Backend;

#[tokio::test]
async fn the_server_serves_the_web_inbox_and_keeps_api_errors_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><title>Handoff Inbox</title>").unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("assets/app.js"), "console.log('inbox')").unwrap();
    let web = dir.path().to_owned();
    let stack = TestStack::start_with(Backend::Sqlite, move |c| c.web_dir = Some(web)).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", stack.url())).send();

    let index = get("/").await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(index.text().await.unwrap().contains("Handoff Inbox"));
    let js = get("/assets/app.js").await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    // A deep link in the single-page app gets the page.
    let deep = get("/conversation/42").await.unwrap();
    assert_eq!(deep.status(), 200);
    assert!(deep.text().await.unwrap().contains("Handoff Inbox"));
    // API paths are never the page: an unknown one is a JSON 404 with its code.
    let missing = get("/v1/no-such-thing").await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["x-handoff-error"], "not_found");
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    // The API itself still answers.
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let stack =
        TestStack::start_with(Backend::Sqlite, |c| c.cors_origins = vec!["https://crm.example.com".into()]).await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{}/v1/conversations", stack.url()))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://crm.example.com").await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://crm.example.com");
    assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let other = preflight("https://evil.example.net").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none(), "other origins get no CORS grant");

    // Without configured origins there is no CORS at all (same origin only).
    let closed = TestStack::start(Backend::Sqlite).await;
    let resp =
        http.get(format!("{}/healthz", closed.url())).header("origin", "https://crm.example.com").send().await.unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}
