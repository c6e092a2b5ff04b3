//! A whole Handoff stack for tests and the bench: a WhatsApp sandbox and a server on
//! port 0, on a fresh SQLite file or a fresh PostgreSQL database.
//!
//! PostgreSQL tests need `HANDOFF_TEST_POSTGRES_URL` (an admin URL; `make test` starts
//! a server and sets it). Without it they fail: a skipped backend proves nothing.

use handoff_protocol::{LoginResponse, SecretString};
use handoff_sandbox::{RunningSandbox, SandboxConfig};
use serde_json::Value;
use sqlx::Row;

use crate::{seed, Backend, Config, Server};

pub const POSTGRES_ENV: &str = "HANDOFF_TEST_POSTGRES_URL";

/// `on_both_backends!(story_a, story_b)`: for each `async fn story(Backend)` in scope, a
/// module with a `sqlite` and a `postgres` test.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::Backend::Postgres).await }
        }
    )*};
}

pub struct TestStack {
    pub server: Server,
    pub sandbox: RunningSandbox,
    pub backend: Backend,
    /// The server's database (a restarted server opens the same).
    pub database_url: String,
    _dir: tempfile::TempDir,
}

/// A fresh, empty database of `backend`: a SQLite file in `dir`, or a new PostgreSQL
/// database.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => crate::db::sqlite_url(dir),
        Backend::Postgres => {
            let admin = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
                panic!("{POSTGRES_ENV} is not set: PostgreSQL tests need a server (run `make test`, which starts one)")
            });
            sqlx::any::install_default_drivers();
            let name = format!("handoff_test_{}_{:08x}", std::process::id(), rand::random::<u32>());
            let mut conn: sqlx::AnyConnection = sqlx::Connection::connect(&admin).await.expect("connect to PostgreSQL");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
    }
}

impl TestStack {
    pub async fn start(backend: Backend) -> TestStack {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts the stack; `tweak` may change the server's config first.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestStack {
        // Server logs in test output (shown for failing tests); RUST_LOG to change.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database(backend, dir.path()).await;
        let mut sb_cfg = SandboxConfig::new(
            "http://127.0.0.1:9/",
            "test-app-secret",
            "test-access-token",
            seed::DEMO_PHONE_NUMBER_ID,
        );
        sb_cfg.status_delay = std::time::Duration::from_millis(30);
        let sandbox = handoff_sandbox::start(sb_cfg).await.expect("sandbox starts");
        let mut config = Config::for_tests(&url, &sandbox.url());
        config.media_dir = dir.path().join("media");
        tweak(&mut config);
        let server = crate::start(config).await.expect("server starts");
        sandbox.sandbox.set_webhook_url(&format!("{}/webhooks/whatsapp", server.url()));
        TestStack { server, sandbox, backend, database_url: url, _dir: dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// `GET {server}{path}` with a bearer token, as JSON (panics on a non-2xx).
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let resp = reqwest::Client::new()
            .get(format!("{}{path}", self.url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request");
        assert!(resp.status().is_success(), "GET {path} answered {}", resp.status());
        resp.json().await.expect("a JSON answer")
    }

    /// Sets the agent behind `token` online (so conversations can be assigned to them).
    pub async fn set_online(&self, token: &str) {
        let resp = reqwest::Client::new()
            .put(format!("{}/v1/me/availability", self.url()))
            .bearer_auth(token)
            .json(&serde_json::json!({"availability": "online"}))
            .send()
            .await
            .expect("availability request");
        assert_eq!(resp.status(), 200, "going online works");
    }

    /// Adds a person to workspace `workspace_id` (its default team) and gives them a
    /// session token, without the HTTP login (fast enough for fifty of them).
    pub async fn add_agent(&self, workspace_id: i64, email: &str, name: &str, role: &str) -> (i64, String) {
        let mut tx = self.server.state.db.begin_write().await.expect("write transaction");
        let id = seed::add_agent(&mut tx, workspace_id, email, name, role, SecretString::new("test-password"))
            .await
            .expect("agent added");
        let (token, _) = crate::auth::issue_token(
            &mut tx,
            workspace_id,
            Some(id),
            "session",
            "test",
            Some(crate::auth::SESSION_TTL_MS),
        )
        .await
        .expect("token issued");
        tx.commit().await.expect("commit");
        (id, token.expose().to_owned())
    }

    /// Logs a demo agent in over HTTP.
    pub async fn login(&self, email: &str) -> LoginResponse {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/auth/login", self.url()))
            .json(&handoff_protocol::LoginRequest {
                email: email.into(),
                password: SecretString::new(seed::DEMO_PASSWORD),
            })
            .send()
            .await
            .expect("login request");
        assert_eq!(resp.status(), 200, "demo login works");
        resp.json().await.expect("login response")
    }
}

/// Calls the REST API of a [`TestStack`] the way the tests need: status and JSON
/// body, or the body of a call that must succeed.
pub struct TestApi<'a> {
    stack: &'a TestStack,
    http: reqwest::Client,
}

impl<'a> TestApi<'a> {
    pub fn new(stack: &'a TestStack) -> Self {
        TestApi { stack, http: reqwest::Client::new() }
    }

    pub async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.stack.url());
        let req = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            "PUT" => self.http.put(url),
            "PATCH" => self.http.patch(url),
            "DELETE" => self.http.delete(url),
            other => panic!("method {other}"),
        }
        .bearer_auth(token);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, token, body).await;
        assert!((200..300).contains(&status), "{method} {path} answered {status}: {v}");
        v
    }

    /// A customer writes (so the conversation exists); returns its id.
    pub async fn conversation(&self, wa: &str) -> i64 {
        self.stack.sandbox.sandbox.customer_says(wa, &format!("Customer {wa}"), "hello there").await.unwrap();
        let pool = &self.stack.server.state.db.pool;
        eventually(10, "the conversation", || async {
            sqlx::query("SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1")
                .bind(wa)
                .fetch_optional(pool)
                .await
                .unwrap()
                .map(|r| r.get::<i64, _>("id"))
        })
        .await
    }

    /// The demo bot hands `conv` off with `extra` fields (team, priority, skill).
    pub async fn hand_off(&self, conv: i64, extra: Value) -> handoff_protocol::Handoff {
        let mut body = serde_json::json!({ "reason": "the customer needs a person" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let v = self.ok("POST", &format!("/v1/conversations/{conv}/handoff"), seed::DEMO_BOT_TOKEN, Some(body)).await;
        serde_json::from_value(v).unwrap()
    }

    /// A new conversation handed off; returns (conversation, assignee).
    pub async fn escalate(&self, wa: &str, extra: Value) -> (i64, Option<i64>) {
        let conv = self.conversation(wa).await;
        let h = self.hand_off(conv, extra).await;
        (conv, h.assignee_id.map(|a| a.0))
    }

    pub async fn availability(&self, token: &str, a: &str) {
        self.ok("PUT", "/v1/me/availability", token, Some(serde_json::json!({ "availability": a }))).await;
    }

    pub async fn assignee(&self, conv: i64) -> Option<i64> {
        sqlx::query("SELECT assignee_id FROM conversations WHERE id = $1")
            .bind(conv)
            .fetch_one(&self.stack.server.state.db.pool)
            .await
            .unwrap()
            .get("assignee_id")
    }

    pub async fn resolve(&self, conv: i64, token: &str) {
        self.ok("POST", &format!("/v1/conversations/{conv}/resolve"), token, Some(serde_json::json!({}))).await;
    }
}

/// Polls `check` every 25 ms until it returns `Some`, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// One request a [`HookReceiver`] got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhook bodies are JSON")
    }
}

/// A webhook receiver on port 0 (`POST /hook`) that records every request and answers
/// with `status` (200 unless changed).
pub struct HookReceiver {
    pub url: String,
    pub got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    pub status: std::sync::Arc<std::sync::Mutex<u16>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HookReceiver {
    pub async fn start() -> HookReceiver {
        use axum::http::{HeaderMap, StatusCode};
        let got: std::sync::Arc<std::sync::Mutex<Vec<Received>>> = Default::default();
        let status = std::sync::Arc::new(std::sync::Mutex::new(200u16));
        let (g, st) = (got.clone(), status.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (g, st) = (g.clone(), st.clone());
                async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                        .collect();
                    g.lock()
                        .expect("not poisoned")
                        .push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
                    StatusCode::from_u16(*st.lock().expect("not poisoned")).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HookReceiver { url, got, status, task }
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().expect("not poisoned").clone()
    }

    /// The `type` of every event received, in order.
    pub fn types(&self) -> Vec<String> {
        self.all().iter().map(|r| r.json()["type"].as_str().unwrap_or("").to_owned()).collect()
    }
}
