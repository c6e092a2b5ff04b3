//! First-run data: every database gets a workspace and a default team; `--demo` adds
//! the demo workspace's agents, a bot token and the sandbox's business number.

use sqlx::{AnyConnection, Row};

use crate::auth;
use crate::db::now_ms;
use crate::error::AppResult;
use handoff_protocol::SecretString;

/// The password of every demo agent.
pub const DEMO_PASSWORD: &str = "handoff-demo";
/// The API token the demo's bots and workflows use (`Authorization: Bearer ...`).
pub const DEMO_BOT_TOKEN: &str = "hoa_demo_bot_token";
/// The sandbox's business number.
pub const DEMO_PHONE_NUMBER_ID: &str = "100000000000001";
pub const DEMO_DISPLAY_NUMBER: &str = "15550100";
/// The sandbox's WhatsApp Business Account.
pub const DEMO_WABA_ID: &str = "200000000000001";
/// Demo agents: (email, name, role).
pub const DEMO_AGENTS: &[(&str, &str, &str)] = &[
    ("ana@demo.handoff.dev", "Ana Alvarez", "agent"),
    ("ben@demo.handoff.dev", "Ben Okafor", "agent"),
    ("maya@demo.handoff.dev", "Maya Lindqvist", "manager"),
    ("omar@demo.handoff.dev", "Omar Haddad", "admin"),
];

/// Makes sure a workspace with a default team exists; returns the first workspace.
pub async fn ensure_base(conn: &mut AnyConnection) -> AppResult<i64> {
    if let Some(r) = sqlx::query("SELECT id FROM workspaces ORDER BY id LIMIT 1").fetch_optional(&mut *conn).await? {
        return Ok(r.try_get("id")?);
    }
    create_workspace(conn, "Handoff").await
}

/// Creates a workspace with its default team ("Support"); returns its id.
pub async fn create_workspace(conn: &mut AnyConnection, name: &str) -> AppResult<i64> {
    let now = now_ms();
    let ws: i64 = sqlx::query("INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    sqlx::query("INSERT INTO teams (workspace_id, name, is_default, created_at) VALUES ($1, 'Support', 1, $2)")
        .bind(ws)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(ws)
}

/// Registers a business number to a workspace (no-op when known).
pub async fn register_number(
    conn: &mut AnyConnection,
    workspace_id: i64,
    phone_number_id: &str,
    display: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO channels (workspace_id, phone_number_id, display_phone_number, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (phone_number_id) DO NOTHING",
    )
    .bind(workspace_id)
    .bind(phone_number_id)
    .bind(display)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds an agent (or returns the existing one with that email) to the workspace's
/// default team.
pub async fn add_agent(
    conn: &mut AnyConnection,
    workspace_id: i64,
    email: &str,
    name: &str,
    role: &str,
    password: SecretString,
) -> AppResult<i64> {
    let email = email.trim().to_lowercase();
    if let Some(r) =
        sqlx::query("SELECT id FROM agents WHERE email = $1").bind(&email).fetch_optional(&mut *conn).await?
    {
        return Ok(r.try_get("id")?);
    }
    let hash = auth::hash_password(password).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO agents (workspace_id, email, name, role, password_hash, availability, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'offline', $6) RETURNING id",
    )
    .bind(workspace_id)
    .bind(&email)
    .bind(name)
    .bind(role)
    .bind(hash)
    .bind(now_ms())
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let team: i64 = sqlx::query("SELECT id FROM teams WHERE workspace_id = $1 ORDER BY is_default DESC, id LIMIT 1")
        .bind(workspace_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    sqlx::query("INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2)")
        .bind(team)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// The demo workspace: "Acme Support", three agents, a bot token and the sandbox number.
pub async fn seed_demo(conn: &mut AnyConnection) -> AppResult<()> {
    let ws = ensure_base(conn).await?;
    sqlx::query("UPDATE workspaces SET name = 'Acme Support' WHERE id = $1").bind(ws).execute(&mut *conn).await?;
    for (email, name, role) in DEMO_AGENTS {
        add_agent(conn, ws, email, name, role, SecretString::new(DEMO_PASSWORD)).await?;
    }
    let known = sqlx::query("SELECT id FROM tokens WHERE token_hash = $1")
        .bind(auth::token_hash(DEMO_BOT_TOKEN))
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_none() {
        auth::insert_token(conn, ws, None, "api", "demo-bot", DEMO_BOT_TOKEN, None).await?;
    }
    register_number(conn, ws, DEMO_PHONE_NUMBER_ID, DEMO_DISPLAY_NUMBER).await?;
    Ok(())
}
