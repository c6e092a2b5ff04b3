//! Handoff server: receives WhatsApp webhooks, runs the handoff state machine, sends
//! replies through the Graph API, and serves the REST + live-event API.
//!
//! Start one with [`start`]; tests do the same on port 0. See ARCHITECTURE.md for the
//! path a message takes.

pub mod api;
pub mod audit;
pub mod auth;
pub mod auth_api;
pub mod automation;
pub mod bench;
pub mod bot;
pub mod collab;
pub mod console;
pub mod crypto;
pub mod db;
pub mod engine;
pub mod error;
pub mod events;
pub mod handoff_settings;
pub mod hooks;
pub mod hooks_api;
pub mod hours;
pub mod ingest;
pub mod leads;
pub mod media;
pub mod mutations;
pub mod numbers;
pub mod openapi;
pub mod outbound;
pub mod presence;
pub mod routing;
pub mod routing_api;
pub mod seed;
pub mod sender;
pub mod sla;
pub mod store;
pub mod telemetry;
pub mod templates;
pub mod testkit;
pub mod triggers;
pub mod webhook;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use handoff_protocol::SecretString;
use handoff_whatsapp::GraphClient;
use tokio::sync::Notify;

pub use crate::bot::BotConfig;
pub use crate::db::{Backend, Db};
pub use crate::error::{AppError, AppResult};

/// Largest webhook body accepted (Meta sends up to 3 MB).
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;

/// Everything the server needs to run. `main` fills it from flags and environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    pub wa_app_secret: SecretString,
    pub wa_verify_token: SecretString,
    pub wa_access_token: SecretString,
    pub graph_api_base: String,
    pub graph_api_version: String,
    /// A business number to register at start: (phone_number_id, display number).
    pub phone_number: Option<(String, String)>,
    pub bot: BotConfig,
    /// Trigger settings written to every workspace at start (from `--triggers-config`).
    pub triggers: Option<triggers::TriggerConfig>,
    /// The WhatsApp Business Account id (templates live there).
    pub waba_id: Option<String>,
    /// Seed the demo workspace, agents and bot token.
    pub demo: bool,
    /// Also two weeks of past conversations (the manager console's charts).
    pub demo_history: bool,
    /// Key that seals stored secrets (base64 of 32 bytes).
    pub secret_key: SecretString,
    /// Waits between project webhook attempts; after the last, a delivery is dead.
    pub hook_retry_schedule: Vec<std::time::Duration>,
    /// How long a send interrupted by a crash waits for WhatsApp's confirmation before it
    /// is sent again (longer than the Graph API timeout).
    pub send_recovery_grace: std::time::Duration,
    /// Where media files are kept (`<data dir>/media`).
    pub media_dir: std::path::PathBuf,
    /// An agent whose app has not been heard from for this long goes offline.
    pub offline_grace: std::time::Duration,
    /// An online agent idle this long (no activity heartbeat) becomes away; `None`
    /// leaves idle agents online.
    pub idle_away: Option<std::time::Duration>,
    /// How long an access token works; the app refreshes it with its refresh token.
    pub access_ttl: std::time::Duration,
    /// Run the background workers (automation, sending, project webhooks, media, SLA,
    /// availability). Off only in the benchmark's ingest-only rounds.
    pub background_workers: bool,
    /// Hand off a customer who asks for a person as their message is stored, ahead of
    /// the bot's backlog (`engine::escalate_now`); off, the automation worker does it.
    pub escalate_at_ingest: bool,
    /// The built web inbox (`ui/dist`), served at `/` so the same UI runs in a browser
    /// from the server's own origin.
    pub web_dir: Option<std::path::PathBuf>,
    /// Other origins allowed to call the API from a browser (an inbox embedded in
    /// another product). Empty: same origin only.
    pub cors_origins: Vec<String>,
}

impl Config {
    /// A config for tests and benches: demo data, the given database, Graph API at
    /// `graph_api_base`, port 0 on loopback.
    pub fn for_tests(database_url: &str, graph_api_base: &str) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            database_url: database_url.to_owned(),
            wa_app_secret: SecretString::new("test-app-secret"),
            wa_verify_token: SecretString::new("test-verify-token"),
            wa_access_token: SecretString::new("test-access-token"),
            graph_api_base: graph_api_base.to_owned(),
            graph_api_version: handoff_whatsapp::DEFAULT_GRAPH_VERSION.to_owned(),
            phone_number: None,
            bot: BotConfig::default(),
            triggers: None,
            waba_id: Some(seed::DEMO_WABA_ID.into()),
            demo: true,
            demo_history: false,
            secret_key: crypto::SecretBox::generate_key(),
            hook_retry_schedule: hooks::default_retry_schedule(),
            send_recovery_grace: std::time::Duration::from_secs(60),
            media_dir: std::env::temp_dir().join(format!("handoff-media-{}", std::process::id())),
            offline_grace: std::time::Duration::from_secs(60),
            idle_away: None,
            access_ttl: std::time::Duration::from_secs(15 * 60),
            background_workers: true,
            escalate_at_ingest: true,
            web_dir: None,
            cors_origins: Vec::new(),
        }
    }
}

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub bot: BotConfig,
    pub hub: events::Hub,
    pub graph: GraphClient,
    pub automation_wake: Notify,
    pub sender_wake: Notify,
    pub hooks_wake: Notify,
    /// Seals and opens stored secrets.
    pub secrets: crypto::SecretBox,
    pub hook_retry_schedule: Vec<std::time::Duration>,
    pub send_recovery_grace: std::time::Duration,
    pub media_store: Arc<dyn media::MediaStore>,
    pub media_wake: Notify,
    /// When this process started (unix ms).
    pub started_at: i64,
    /// Verified webhook deliveries on their way to the group committer.
    pub ingest: ingest::Queue,
    /// Deliveries between arrival and answer (see [`ingest::make_way`]).
    pub ingest_in_flight: std::sync::atomic::AtomicUsize,
    ingest_rx: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<ingest::Delivery>>>,
    /// The time SLA clocks and presence read (tests move it forward).
    pub clock: sla::Clock,
    pub sla_wake: Notify,
    /// Who is viewing, typing or drafting in which conversation (this process).
    pub presence: presence::Presence,
    /// Prometheus counters and histograms (`GET /metrics`).
    pub telemetry: telemetry::Telemetry,
}

/// Shared state of one server process.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Connects the database (migrating it), seeds first-run data.
    pub async fn new(config: Config) -> AppResult<AppState> {
        let db = Db::connect(&config.database_url).await?;
        {
            let mut tx = db.begin_write().await?;
            let ws = seed::ensure_base(&mut tx).await?;
            if config.demo {
                seed::seed_demo(&mut tx).await?;
            }
            if config.demo && config.demo_history {
                seed::seed_history(&mut tx, db::now_ms()).await?;
            }
            if let Some((id, display)) = &config.phone_number {
                seed::register_number(&mut tx, ws, id, display).await?;
            }
            if let Some(waba) = &config.waba_id {
                // Template webhooks name the business account, not a number.
                sqlx::query("UPDATE channels SET waba_id = $1 WHERE workspace_id = $2 AND waba_id IS NULL")
                    .bind(waba)
                    .bind(ws)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(t) = &config.triggers {
                use sqlx::Row;
                let all = sqlx::query("SELECT id FROM workspaces").fetch_all(&mut *tx).await?;
                for w in all {
                    store::set_workspace_triggers(&mut tx, w.try_get("id")?, t).await?;
                }
            }
            tx.commit().await?;
        }
        let graph = GraphClient::new(&config.graph_api_base, &config.graph_api_version, config.wa_access_token.clone());
        let secrets =
            crypto::SecretBox::from_base64(&config.secret_key).map_err(|e| AppError::Internal(e.to_string()))?;
        let (ingest, ingest_rx) = ingest::queue();
        Ok(AppState(Arc::new(Inner {
            ingest,
            ingest_in_flight: std::sync::atomic::AtomicUsize::new(0),
            ingest_rx: std::sync::Mutex::new(Some(ingest_rx)),
            secrets,
            hook_retry_schedule: config.hook_retry_schedule.clone(),
            send_recovery_grace: config.send_recovery_grace,
            media_store: Arc::new(media::FsMediaStore::new(config.media_dir.clone())),
            media_wake: Notify::new(),
            started_at: db::now_ms(),
            hooks_wake: Notify::new(),
            db,
            bot: config.bot.clone(),
            config,
            hub: events::Hub::default(),
            graph,
            automation_wake: Notify::new(),
            sender_wake: Notify::new(),
            clock: sla::Clock::default(),
            sla_wake: Notify::new(),
            presence: presence::Presence::default(),
            telemetry: telemetry::Telemetry::default(),
        })))
    }

    /// Call after committing a change to `workspace_id`: pokes live clients and wakes the
    /// send worker.
    pub async fn changed(&self, workspace_id: i64) {
        self.sender_wake.notify_one();
        self.hooks_wake.notify_one();
        match self.db.pool.acquire().await {
            Ok(mut conn) => match store::max_seq(&mut conn, workspace_id).await {
                Ok(seq) => self.hub.poke(workspace_id, seq),
                Err(e) => tracing::warn!(error = %e, "could not read the change cursor"),
            },
            Err(e) => tracing::warn!(error = %e, "could not read the change cursor"),
        }
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    let trace = tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
        // Path only: a query string may hold an access token.
        tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
    });
    let mut router = openapi::add_routes(Router::new(), &state);
    if let Some(dir) = &state.config.web_dir {
        // The web inbox: files as they are, and index.html for anything else (a
        // single-page app). API paths never reach it: they are routes above.
        let index = tower_http::services::ServeFile::new(dir.join("index.html"));
        let files = tower_http::services::ServeDir::new(dir).fallback(index);
        router = router.fallback(move |req: axum::extract::Request| web_file(files.clone(), req));
    }
    if !state.config.cors_origins.is_empty() {
        router = router.layer(cors(&state.config.cors_origins));
    }
    router.layer(trace).with_state(state)
}

/// A file of the web inbox; unknown API paths stay JSON 404s.
async fn web_file<S>(files: S, req: axum::extract::Request) -> axum::response::Response
where
    S: tower::Service<axum::extract::Request, Error = std::convert::Infallible> + Clone,
    S::Response: axum::response::IntoResponse,
{
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    let path = req.uri().path();
    if path.starts_with("/v1/") || path.starts_with("/webhooks/") || path.starts_with("/sandbox/") {
        return error::AppError::not_found("route").into_response();
    }
    match files.oneshot(req).await {
        Ok(resp) => resp.into_response(),
        Err(never) => match never {},
    }
}

/// Browsers on these origins may call the API (bearer tokens, no cookies).
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderName, Method};
    let any = origins.iter().any(|o| o == "*");
    let layer = tower_http::cors::CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("idempotency-key")])
        .expose_headers([HeaderName::from_static("x-handoff-error"), header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(3600));
    if any {
        layer.allow_origin(tower_http::cors::Any)
    } else {
        layer.allow_origin(origins.iter().filter_map(|o| o.parse::<axum::http::HeaderValue>().ok()).collect::<Vec<_>>())
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and the workers (what a killed process does, minus the kill).
    pub fn abort(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Starts the HTTP server and the automation and send workers.
pub async fn start(config: Config) -> anyhow::Result<Server> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config).await?;
    let mut tasks = Vec::new();
    if state.config.background_workers {
        tasks.extend([
            tokio::spawn(engine::run_automation(state.clone())),
            tokio::spawn(sender::run_sender(state.clone())),
            tokio::spawn(hooks::run_delivery(state.clone())),
            tokio::spawn(media::run_fetcher(state.clone())),
            tokio::spawn(sla::run_sla(state.clone())),
            tokio::spawn(presence::run_availability(state.clone())),
        ]);
    }
    if state.db.backend == Backend::Postgres {
        // Several replicas may share this database: live pokes and events cross over.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let _ = state.hub.bridge.set(tx.clone());
        let _ = state.presence.bridge.set(tx);
        tasks.push(tokio::spawn(events::run_bridge(state.clone(), rx)));
    }
    let ingest_rx = state.ingest_rx.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.take();
    if let Some(rx) = ingest_rx {
        tasks.push(tokio::spawn(ingest::run_committer(state.clone(), rx)));
    }
    // Conversations that waited while the server was down may have an agent now.
    let workspaces: Vec<i64> = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM workspaces").fetch_all(&state.db.pool).await?.iter().map(|r| r.get("id")).collect()
    };
    for ws in workspaces {
        routing::drain_queue(&state, ws).await?;
    }
    if let Some(waba) = state.config.waba_id.clone() {
        // The template registry, fetched in the background: a Graph API hiccup must not
        // stop the server from starting.
        let st = state.clone();
        tasks.push(tokio::spawn(async move {
            let ws: i64 =
                match sqlx::query("SELECT id FROM workspaces ORDER BY id LIMIT 1").fetch_optional(&st.db.pool).await {
                    Ok(Some(r)) => sqlx::Row::try_get(&r, "id").unwrap_or(1),
                    _ => 1,
                };
            if let Err(e) = templates::sync(&st, ws, &waba).await {
                tracing::warn!(error = %e, "template sync failed; POST /v1/templates/sync to retry");
            }
        }));
    }
    let app = router(state.clone());
    tasks.push(tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "server stopped");
        }
    }));
    tracing::info!(%addr, backend = ?state.db.backend, "handoff-server listening");
    Ok(Server { addr, state, tasks })
}
