//! `handoff-server`: the Handoff server binary.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use handoff_protocol::SecretString;
use handoff_server::{db, seed, BotConfig, Config};

#[derive(Debug, Parser)]
#[command(
    name = "handoff-server",
    version,
    about = "Handoff server: hands WhatsApp conversations from automation to people, and back",
    after_help = "Every option can also be set by the environment variable shown. Secrets are best given by environment."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure signed webhook ingest into SQLite against a bare axum handler and a naive insert loop.
    Bench {
        /// Messages in the closed-loop throughput run.
        #[arg(long, default_value_t = 20000)]
        messages: usize,
        /// Requests in flight in the throughput run.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Offered rate of the steady run (messages per second).
        #[arg(long, default_value_t = 2000.0)]
        steady_rate: f64,
        /// Length of the steady run in seconds.
        #[arg(long, default_value_t = 5.0)]
        steady_secs: f64,
    },
    /// Add an agent to the first workspace (password from HANDOFF_AGENT_PASSWORD).
    AddAgent {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager, agent or viewer
        #[arg(long, default_value = "agent")]
        role: String,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HANDOFF_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    listen: SocketAddr,
    /// Data directory (SQLite database and files); created on first run.
    #[arg(long, env = "HANDOFF_DATA_DIR", default_value = "handoff-data", global = true)]
    data_dir: PathBuf,
    /// Database URL: postgres://user:pass@host/db for PostgreSQL; default SQLite in the data directory.
    #[arg(long, env = "HANDOFF_DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,
    /// Meta app secret: checks X-Hub-Signature-256 on webhooks.
    #[arg(long, env = "HANDOFF_WA_APP_SECRET", hide_env_values = true, global = true)]
    wa_app_secret: Option<String>,
    /// Token Meta echoes in the webhook verification handshake.
    #[arg(long, env = "HANDOFF_WA_VERIFY_TOKEN", hide_env_values = true, global = true)]
    wa_verify_token: Option<String>,
    /// Graph API access token (system user token) used to send messages.
    #[arg(long, env = "HANDOFF_WA_ACCESS_TOKEN", hide_env_values = true, global = true)]
    wa_access_token: Option<String>,
    /// Graph API base URL: Meta's, or the WhatsApp sandbox's.
    #[arg(long, env = "HANDOFF_GRAPH_API_BASE", default_value = "https://graph.facebook.com", global = true)]
    graph_api_base: String,
    /// Graph API version.
    #[arg(long, env = "HANDOFF_GRAPH_API_VERSION", default_value = handoff_whatsapp::DEFAULT_GRAPH_VERSION, global = true)]
    graph_api_version: String,
    /// Register this business number (Meta's phone_number_id) at start.
    #[arg(long, env = "HANDOFF_WA_PHONE_NUMBER_ID", global = true)]
    wa_phone_number_id: Option<String>,
    /// WhatsApp Business Account id: where the message templates are synced from.
    #[arg(long, env = "HANDOFF_WA_WABA_ID", global = true)]
    wa_waba_id: Option<String>,
    /// JSON file configuring the built-in rule bot (FAQs, handoff phrases, messages).
    #[arg(long, env = "HANDOFF_BOT_CONFIG", global = true)]
    bot_config: Option<PathBuf>,
    /// JSON file with handoff trigger settings, written to every workspace at start
    /// (phrases, keyword intents, thresholds, contact rules; see docs/triggers.md).
    #[arg(long, env = "HANDOFF_TRIGGERS_CONFIG", global = true)]
    triggers_config: Option<PathBuf>,
    /// Demo mode: seed the "Acme Support" workspace, demo agents (password "handoff-demo"),
    /// the bot token "hoa_demo_bot_token" and the sandbox number; demo WhatsApp secrets
    /// unless given.
    #[arg(long, env = "HANDOFF_DEMO", global = true)]
    demo: bool,
    /// With --demo: also two weeks of past conversations, for the manager console.
    #[arg(long, env = "HANDOFF_DEMO_HISTORY", global = true)]
    demo_history: bool,
    /// Key that seals stored secrets such as webhook signing secrets (base64 of 32 random
    /// bytes). Without it a key file is created in the data directory.
    #[arg(long, env = "HANDOFF_SECRET_KEY", hide_env_values = true, global = true)]
    secret_key: Option<String>,
    /// Seconds a send interrupted by a crash waits for WhatsApp's confirmation before it
    /// is sent again.
    #[arg(long, env = "HANDOFF_SEND_RECOVERY_GRACE_SECS", default_value_t = 60, global = true)]
    send_recovery_grace_secs: u64,
    /// Seconds without a sign of an agent's app (event stream or heartbeat) before they
    /// count as offline and get no new conversations.
    #[arg(long, env = "HANDOFF_OFFLINE_GRACE_SECS", default_value_t = 60, global = true)]
    offline_grace_secs: u64,
    /// Seconds without activity in the app (keys, clicks) before an online agent becomes
    /// away and gets no new conversations; 0 keeps idle agents online.
    #[arg(long, env = "HANDOFF_IDLE_AWAY_SECS", default_value_t = 600, global = true)]
    idle_away_secs: u64,
    /// Minutes an access token works before the app must refresh it.
    #[arg(long, env = "HANDOFF_ACCESS_TOKEN_MINUTES", default_value_t = 15, global = true)]
    access_token_minutes: u64,
    /// The built web inbox to serve at `/` (`npm --prefix ui run build` makes `ui/dist`).
    #[arg(long, env = "HANDOFF_WEB_DIR", global = true)]
    web_dir: Option<PathBuf>,
    /// Comma-separated origins allowed to call the API from a browser (`*` for any).
    #[arg(long, env = "HANDOFF_CORS_ORIGINS", value_delimiter = ',', global = true)]
    cors_origins: Vec<String>,
}

impl ServeArgs {
    fn into_config(self) -> anyhow::Result<Config> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        let data_dir = self.data_dir.canonicalize()?;
        let secret = |value: Option<String>, demo: &str, flag: &str| -> anyhow::Result<SecretString> {
            match (value, self.demo) {
                (Some(v), _) => Ok(SecretString::new(v)),
                (None, true) => Ok(SecretString::new(demo)),
                (None, false) => anyhow::bail!("{flag} is required (or run with --demo)"),
            }
        };
        let bot = match &self.bot_config {
            Some(p) => BotConfig::load(p)?,
            None => BotConfig::default(),
        };
        let triggers =
            self.triggers_config.as_deref().map(handoff_server::triggers::TriggerConfig::load).transpose()?;
        let phone_number = match (&self.wa_phone_number_id, self.demo) {
            (Some(id), _) => Some((id.clone(), String::new())),
            (None, true) => Some((seed::DEMO_PHONE_NUMBER_ID.to_owned(), seed::DEMO_DISPLAY_NUMBER.to_owned())),
            (None, false) => None,
        };
        Ok(Config {
            listen: self.listen,
            database_url: self.database_url.clone().unwrap_or_else(|| db::sqlite_url(&data_dir)),
            wa_app_secret: secret(
                self.wa_app_secret.clone(),
                "demo-app-secret",
                "--wa-app-secret / HANDOFF_WA_APP_SECRET",
            )?,
            wa_verify_token: secret(
                self.wa_verify_token.clone(),
                "demo-verify-token",
                "--wa-verify-token / HANDOFF_WA_VERIFY_TOKEN",
            )?,
            wa_access_token: secret(
                self.wa_access_token.clone(),
                "demo-access-token",
                "--wa-access-token / HANDOFF_WA_ACCESS_TOKEN",
            )?,
            graph_api_base: self.graph_api_base,
            graph_api_version: self.graph_api_version,
            phone_number,
            bot,
            triggers,
            waba_id: self.wa_waba_id.clone().or_else(|| self.demo.then(|| seed::DEMO_WABA_ID.to_owned())),
            demo: self.demo,
            demo_history: self.demo_history,
            secret_key: match &self.secret_key {
                Some(k) => SecretString::new(k.clone()),
                None => handoff_server::crypto::SecretBox::key_file(&data_dir)?,
            },
            hook_retry_schedule: handoff_server::hooks::default_retry_schedule(),
            send_recovery_grace: std::time::Duration::from_secs(self.send_recovery_grace_secs),
            media_dir: data_dir.join("media"),
            offline_grace: std::time::Duration::from_secs(self.offline_grace_secs),
            idle_away: (self.idle_away_secs > 0).then(|| std::time::Duration::from_secs(self.idle_away_secs)),
            access_ttl: std::time::Duration::from_secs(self.access_token_minutes.max(1) * 60),
            background_workers: true,
            escalate_at_ingest: true,
            web_dir: match self.web_dir {
                Some(dir) if dir.join("index.html").is_file() => Some(dir),
                Some(dir) => anyhow::bail!("--web-dir {}: no index.html there (build the UI first)", dir.display()),
                None => None,
            },
            cors_origins: self
                .cors_origins
                .into_iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Bench { messages, concurrency, steady_rate, steady_secs }) => {
            handoff_server::bench::run(messages, concurrency, steady_rate, steady_secs).await
        }
        Some(Command::AddAgent { email, name, role }) => {
            let password = std::env::var("HANDOFF_AGENT_PASSWORD")
                .context("set HANDOFF_AGENT_PASSWORD to the new agent's password")?;
            anyhow::ensure!(
                handoff_protocol::Role::parse(&role).is_some(),
                "role must be admin, manager, agent or viewer"
            );
            let config = ServeArgs { demo: true, ..cli.serve }.into_config()?;
            let db = handoff_server::Db::connect(&config.database_url).await?;
            let mut tx = db.begin_write().await?;
            let ws = seed::ensure_base(&mut tx).await?;
            let id = seed::add_agent(&mut tx, ws, &email, &name, &role, SecretString::new(password)).await?;
            tx.commit().await?;
            println!("agent {id} <{email}> ready");
            Ok(())
        }
        None => {
            let config = cli.serve.into_config()?;
            let server = handoff_server::start(config).await?;
            println!("handoff-server listening on {}", server.url());
            tokio::signal::ctrl_c().await?;
            tracing::info!("shutting down");
            Ok(())
        }
    }
}
