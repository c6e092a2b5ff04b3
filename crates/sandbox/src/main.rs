//! `whatsapp-sandbox`: run the fake WhatsApp Cloud API next to a Handoff server.

use std::time::Duration;

use clap::Parser;
use handoff_sandbox::{simulate, SandboxConfig};

#[derive(Debug, Parser)]
#[command(
    name = "whatsapp-sandbox",
    version,
    about = "A fake WhatsApp Cloud API (Graph API + signed webhooks) with simulated customers"
)]
struct Args {
    /// Address to listen on; give its URL to the server as --graph-api-base.
    #[arg(long, env = "SANDBOX_LISTEN", default_value = "127.0.0.1:8090")]
    listen: std::net::SocketAddr,
    /// The Handoff server's webhook URL.
    #[arg(long, env = "SANDBOX_WEBHOOK_URL", default_value = "http://127.0.0.1:8080/webhooks/whatsapp")]
    webhook_url: String,
    /// App secret that signs webhooks (the server's HANDOFF_WA_APP_SECRET).
    #[arg(long, env = "SANDBOX_APP_SECRET", default_value = "demo-app-secret", hide_env_values = true)]
    app_secret: String,
    /// Bearer token the fake Graph API accepts (the server's HANDOFF_WA_ACCESS_TOKEN).
    #[arg(long, env = "SANDBOX_ACCESS_TOKEN", default_value = "demo-access-token", hide_env_values = true)]
    access_token: String,
    /// The business number's phone_number_id.
    #[arg(long, env = "SANDBOX_PHONE_NUMBER_ID", default_value = "100000000000001")]
    phone_number_id: String,
    /// Play the demo's simulated customers.
    #[arg(long, env = "SANDBOX_SIMULATE")]
    simulate: bool,
    /// Seconds between simulated customers.
    #[arg(long, default_value_t = 20)]
    simulate_gap_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let mut config = SandboxConfig::new(&args.webhook_url, &args.app_secret, &args.access_token, &args.phone_number_id);
    config.listen = args.listen;
    let running = handoff_sandbox::start(config).await?;
    tracing::info!(addr = %running.addr, "WhatsApp sandbox listening");
    if args.simulate {
        tokio::spawn(simulate::run(
            running.sandbox.clone(),
            simulate::demo_scripts(),
            Duration::from_secs(args.simulate_gap_secs),
        ));
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
