//! First-run data: every database gets a workspace and a default team; `--demo` adds
//! the demo workspace's agents, a bot token and the sandbox's business number;
//! `--demo-history` two weeks of past conversations for the manager console.

use sqlx::{AnyConnection, Row};

use crate::auth;
use crate::db::now_ms;
use crate::error::AppResult;
use handoff_protocol::{Priority, SecretString, SlaPolicy};

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

/// A small deterministic generator (xorshift), so the demo history is the same each run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, n).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Roughly log-uniform between `lo` and `hi` ms: most values small, a long tail.
    fn spread(&mut self, lo: i64, hi: i64) -> i64 {
        let u = (self.below(10_000) as f64) / 10_000.0;
        (lo as f64 * (hi as f64 / lo as f64).powf(u * u)) as i64
    }
}

/// `--demo-history`: two weeks of past conversations for the manager console's charts —
/// about 45 customers a day, 12% of them handed off (by a mix of triggers), answered and
/// resolved by three colleagues of the demo agents, some late (SLA breaches and near misses), a few timed
/// out in the queue. Everything is finished and processed, so nothing is sent. Seeded
/// once per database.
pub async fn seed_history(conn: &mut AnyConnection, now: i64) -> AppResult<()> {
    let ws = ensure_base(conn).await?;
    let done =
        sqlx::query("SELECT 1 AS one FROM contacts WHERE wa_id = '4917000000000'").fetch_optional(&mut *conn).await?;
    if done.is_some() {
        return Ok(());
    }
    let channel: i64 = sqlx::query("SELECT id FROM channels WHERE workspace_id = $1 ORDER BY id LIMIT 1")
        .bind(ws)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    let team: i64 = sqlx::query("SELECT id FROM teams WHERE workspace_id = $1 ORDER BY is_default DESC, id LIMIT 1")
        .bind(ws)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    // Past shifts were worked by colleagues of their own (offline now), so the demo
    // agents' inboxes show only what happens live.
    let mut people: Vec<(i64,)> = Vec::new();
    for (email, name) in [
        ("chloe@demo.handoff.dev", "Chloe Martin"),
        ("diego@demo.handoff.dev", "Diego Ruiz"),
        ("emma@demo.handoff.dev", "Emma Wilson"),
    ] {
        people.push((add_agent(conn, ws, email, name, "agent", SecretString::new(DEMO_PASSWORD)).await?,));
    }
    const DAY: i64 = 86_400_000;
    const MIN: i64 = 60_000;
    let triggers = [
        ("customer_request", 40, "The customer asked for a person"),
        ("keyword", 20, "The customer wrote \"refund\""),
        ("low_confidence", 15, "The bot was not sure of its answer"),
        ("negative_sentiment", 10, "The customer sounds upset"),
        ("repeated_failure", 10, "The bot missed twice in a row"),
        ("contact_rule", 5, "VIP customer"),
    ];
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let start_of_today = now - now.rem_euclid(DAY);
    let mut n = 0u64;
    for day in (1..=14).rev() {
        let day_start = start_of_today - day * DAY;
        let customers = 38 + dice.below(15);
        for _ in 0..customers {
            let wa = format!("49170{n:08}");
            n += 1;
            let first = day_start + 7 * 3_600_000 + dice.below(13 * 3_600_000) as i64;
            let contact: i64 = sqlx::query(
                "INSERT INTO contacts (workspace_id, wa_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
            )
            .bind(ws)
            .bind(&wa)
            .bind(format!("Customer {}", n))
            .bind(first)
            .fetch_one(&mut *conn)
            .await?
            .try_get("id")?;
            let conv: i64 = sqlx::query(
                "INSERT INTO conversations (workspace_id, contact_id, channel_id, state, created_at, updated_at, \
                   last_message_preview, last_message_at, last_inbound_at) \
                 VALUES ($1, $2, $3, 'automation', $4, $4, 'Thanks!', $4, $4) RETURNING id",
            )
            .bind(ws)
            .bind(contact)
            .bind(channel)
            .bind(first)
            .fetch_one(&mut *conn)
            .await?
            .try_get("id")?;
            let message = |dir: &'static str, author: &'static str, agent: Option<i64>, text: &'static str, at: i64| {
                sqlx::query(
                    "INSERT INTO messages (conversation_id, direction, author, agent_id, kind, text, status, sent_at, \
                       created_at, processed_at) VALUES ($1, $2, $3, $4, 'text', $5, $6, $7, $7, $7)",
                )
                .bind(conv)
                .bind(dir)
                .bind(author)
                .bind(agent)
                .bind(text)
                .bind(if dir == "inbound" { "received" } else { "read" })
                .bind(at)
            };
            message("inbound", "customer", None, "Hi, where is my order?", first).execute(&mut *conn).await?;
            message("outbound", "bot", None, "It ships within two days. Anything else?", first + 4_000)
                .execute(&mut *conn)
                .await?;
            // About one in eight needs a person.
            if dice.below(100) >= 12 {
                continue;
            }
            let mut pick = dice.below(100) as i64;
            let (trigger, _, reason) = *triggers
                .iter()
                .find(|(_, share, _)| {
                    pick -= share;
                    pick < 0
                })
                .unwrap_or(&triggers[0]);
            let priority = ["normal", "normal", "normal", "high", "high", "urgent", "low"][dice.below(7) as usize];
            let requested = first + 60_000 + dice.below(10 * MIN as u64) as i64;
            let agent = people[dice.below(people.len() as u64) as usize].0;
            let timed_out = dice.below(100) < 7;
            let first_response = requested + dice.spread(40_000, 45 * MIN);
            let resolved = first_response + dice.spread(5 * MIN, 8 * 60 * MIN);
            let (status, assignee, fr, end) = if timed_out {
                ("timed_out", None, None, requested + 10 * MIN)
            } else {
                ("resolved", Some(agent), Some(first_response), resolved)
            };
            let handoff: i64 = sqlx::query(
                "INSERT INTO handoffs (workspace_id, conversation_id, trigger, status, reason, priority, requested_by, \
                   team_id, assignee_id, requested_at, assigned_at, first_response_at, resolved_at, returned_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'demo-bot', $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(ws)
            .bind(conv)
            .bind(trigger)
            .bind(status)
            .bind(reason)
            .bind(priority)
            .bind(team)
            .bind(assignee)
            .bind(requested)
            .bind(assignee.map(|_| requested + 20_000))
            .bind(fr)
            .bind(end)
            .fetch_one(&mut *conn)
            .await?
            .try_get("id")?;
            let audit = |actor: String, name: String, action: &'static str, detail: serde_json::Value, at: i64| {
                sqlx::query(
                    "INSERT INTO audit_log (workspace_id, actor, actor_name, action, entity, entity_id, detail, at) \
                     VALUES ($1, $2, $3, $4, 'conversation', $5, $6, $7)",
                )
                .bind(ws)
                .bind(actor)
                .bind(name)
                .bind(action)
                .bind(conv)
                .bind(detail.to_string())
                .bind(at)
            };
            audit(
                "requester:demo-bot".into(),
                "demo-bot".into(),
                "conversation.handed_off",
                serde_json::json!({ "handoff_id": handoff, "trigger": trigger, "team_id": team, "priority": priority }),
                requested,
            )
            .execute(&mut *conn)
            .await?;
            let policy = SlaPolicy::default();
            let target =
                policy.targets(Priority::parse(priority).unwrap_or(Priority::Normal)).first_response_secs as i64 * 1000;
            let met = fr.unwrap_or(end);
            let warn = requested + (target as f64 * policy.warning_ratio) as i64;
            let due = requested + target;
            sqlx::query(
                "INSERT INTO sla_clocks (workspace_id, handoff_id, conversation_id, kind, target_ms, started_at, warn_at, \
                   due_at, warned_at, breached_at, stopped_at) VALUES ($1, $2, $3, 'first_response', $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(ws)
            .bind(handoff)
            .bind(conv)
            .bind(target)
            .bind(requested)
            .bind(warn)
            .bind(due)
            .bind((met > warn).then_some(warn))
            .bind((met > due).then_some(due))
            .bind(met)
            .execute(&mut *conn)
            .await?;
            let Some(agent) = assignee else { continue };
            audit(
                "system".into(),
                "Routing".into(),
                "conversation.routed",
                serde_json::json!({ "handoff_id": handoff, "agent_id": agent }),
                requested + 20_000,
            )
            .execute(&mut *conn)
            .await?;
            message("outbound", "agent", Some(agent), "Hi! I'm looking into it now.", first_response)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE conversations SET last_message_at = $1, updated_at = $1 WHERE id = $2")
                .bind(resolved)
                .bind(conv)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}
