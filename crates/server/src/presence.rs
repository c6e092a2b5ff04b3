//! Presence and availability.
//!
//! Presence: who is viewing, typing in, or holding a draft for which conversation,
//! pushed live to the others who can see it (collision detection). It lives in this
//! process's memory and expires unless refreshed ([`PRESENCE_TTL`]).
//!
//! Availability: an agent is online, away or offline. The app's event stream and
//! heartbeats keep `last_seen_at` fresh; [`run_availability`] takes agents offline
//! after the grace period and, when configured, online agents away after idling.
//! Whenever someone comes (back) online the queue drains.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use serde::Deserialize;
use sqlx::Row;
use tokio::sync::broadcast;

use crate::api::ApiJson;
use crate::auth::AgentCaller;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{store, AppState};

/// A presence not refreshed within this time is dropped.
pub const PRESENCE_TTL: Duration = Duration::from_secs(45);

#[derive(Debug, Clone)]
struct Entry {
    workspace_id: i64,
    name: String,
    state: PresenceState,
    since: i64,
    refreshed: i64,
}

pub struct Presence {
    /// conversation -> agent -> what they do there.
    map: Mutex<HashMap<i64, HashMap<i64, Entry>>>,
    /// (workspace, only for this agent, event) for the event streams.
    tx: broadcast::Sender<(i64, Option<AgentId>, ServerEvent)>,
    /// To the other replicas (see [`crate::events::run_bridge`]).
    pub bridge: crate::events::Bridge,
}

impl Default for Presence {
    fn default() -> Self {
        Presence { map: Mutex::new(HashMap::new()), tx: broadcast::channel(1024).0, bridge: Default::default() }
    }
}

impl Presence {
    pub fn subscribe(&self) -> broadcast::Receiver<(i64, Option<AgentId>, ServerEvent)> {
        self.tx.subscribe()
    }

    /// Sends a live event to one agent's streams (a mention).
    pub fn notify(&self, workspace_id: i64, agent: AgentId, event: ServerEvent) {
        self.publish(workspace_id, Some(agent), event);
    }

    /// To this process's streams and the other replicas'.
    fn publish(&self, workspace_id: i64, to: Option<AgentId>, event: ServerEvent) {
        if let Some(b) = self.bridge.get() {
            let _ = b.send(crate::events::Live::Event { w: workspace_id, to, e: event.clone() });
        }
        let _ = self.tx.send((workspace_id, to, event));
    }

    /// An event from another replica: remembered (presence) and given to this
    /// process's streams, not sent back out.
    pub fn deliver_remote(&self, workspace_id: i64, to: Option<AgentId>, event: ServerEvent) {
        if let ServerEvent::Presence { conversation_id, agent_id, agent_name, state } = &event {
            let now = now_ms();
            let mut map = self.map.lock().expect("not poisoned");
            let convo = map.entry(conversation_id.0).or_default();
            if *state == PresenceState::Left {
                convo.remove(&agent_id.0);
            } else {
                let since = convo.get(&agent_id.0).filter(|e| e.state == *state).map_or(now, |e| e.since);
                convo.insert(
                    agent_id.0,
                    Entry { workspace_id, name: agent_name.clone(), state: *state, since, refreshed: now },
                );
            }
        }
        let _ = self.tx.send((workspace_id, to, event));
    }

    /// Records what `agent` does in `conversation` and tells the others (only on a
    /// change, so refreshes are quiet).
    pub fn set(&self, agent: &Agent, conversation: ConversationId, state: PresenceState) {
        let now = now_ms();
        let changed = {
            let mut map = self.map.lock().expect("not poisoned");
            let convo = map.entry(conversation.0).or_default();
            if state == PresenceState::Left {
                convo.remove(&agent.id.0).is_some()
            } else {
                match convo.get_mut(&agent.id.0) {
                    Some(e) if e.state == state => {
                        e.refreshed = now;
                        false
                    }
                    _ => {
                        convo.insert(
                            agent.id.0,
                            Entry {
                                workspace_id: agent.workspace_id.0,
                                name: agent.name.clone(),
                                state,
                                since: now,
                                refreshed: now,
                            },
                        );
                        true
                    }
                }
            }
        };
        if changed {
            self.publish(
                agent.workspace_id.0,
                None,
                ServerEvent::Presence {
                    conversation_id: conversation,
                    agent_id: agent.id,
                    agent_name: agent.name.clone(),
                    state,
                },
            );
        }
    }

    /// Everyone present on a conversation.
    pub fn of(&self, conversation: ConversationId) -> Vec<PresenceEntry> {
        let map = self.map.lock().expect("not poisoned");
        let mut out: Vec<PresenceEntry> = map
            .get(&conversation.0)
            .into_iter()
            .flatten()
            .map(|(id, e)| PresenceEntry {
                agent_id: AgentId(*id),
                agent_name: e.name.clone(),
                state: e.state,
                since: e.since,
            })
            .collect();
        out.sort_by_key(|e| e.agent_id);
        out
    }

    /// An agent's stream closed: they left every conversation.
    pub fn leave_all(&self, agent: &Agent) {
        let convs: Vec<i64> = {
            let map = self.map.lock().expect("not poisoned");
            map.iter().filter(|(_, m)| m.contains_key(&agent.id.0)).map(|(c, _)| *c).collect()
        };
        for c in convs {
            self.set(agent, ConversationId(c), PresenceState::Left);
        }
    }

    /// Drops presences not refreshed in time, telling the others.
    pub fn expire(&self) {
        let cutoff = now_ms() - PRESENCE_TTL.as_millis() as i64;
        let mut gone = Vec::new();
        {
            let mut map = self.map.lock().expect("not poisoned");
            for (conv, agents) in map.iter_mut() {
                agents.retain(|id, e| {
                    let keep = e.refreshed >= cutoff;
                    if !keep {
                        gone.push((e.workspace_id, *conv, *id, e.name.clone()));
                    }
                    keep
                });
            }
            map.retain(|_, a| !a.is_empty());
        }
        for (ws, conv, agent, name) in gone {
            // Each process expires what it saw; only this process's own entries
            // need telling the others, but a repeated "left" is harmless.
            let _ = self.tx.send((
                ws,
                None,
                ServerEvent::Presence {
                    conversation_id: ConversationId(conv),
                    agent_id: AgentId(agent),
                    agent_name: name,
                    state: PresenceState::Left,
                },
            ));
        }
    }
}

/// Whether `agent` may see conversation `id` (in their inbox, or a manager's).
pub async fn may_see(state: &AppState, agent: &Agent, id: ConversationId) -> AppResult<bool> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(!store::visible_conversations(&mut conn, agent, &[id.0]).await?.is_empty())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PresenceRequest {
    pub state: PresenceState,
}

/// `PUT /v1/conversations/{id}/presence`: the same as the event stream's `presence`.
pub async fn put(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<PresenceRequest>,
) -> AppResult<StatusCode> {
    if !may_see(&state, &caller.agent, ConversationId(id)).await? {
        return Err(AppError::not_found("conversation"));
    }
    state.presence.set(&caller.agent, ConversationId(id), req.state);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/conversations/{id}/presence`.
pub async fn get(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<PresenceEntry>>> {
    if !may_see(&state, &caller.agent, ConversationId(id)).await? {
        return Err(AppError::not_found("conversation"));
    }
    Ok(Json(state.presence.of(ConversationId(id))))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct HeartbeatRequest {
    /// The person did something (typed, clicked) since the last heartbeat.
    #[serde(default)]
    pub active: bool,
}

/// The app is there (and, with `active`, so is the person).
pub async fn seen(state: &AppState, agent: AgentId, active: bool) -> AppResult<()> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    sqlx::query("UPDATE agents SET last_seen_at = $1 WHERE id = $2").bind(now).bind(agent.0).execute(&mut *tx).await?;
    let mut back = false;
    if active {
        sqlx::query("UPDATE agents SET last_active_at = $1 WHERE id = $2")
            .bind(now)
            .bind(agent.0)
            .execute(&mut *tx)
            .await?;
        back = sqlx::query(
            "UPDATE agents SET availability = 'online', auto_away = 0 WHERE id = $1 AND auto_away = 1 AND availability = 'away'",
        )
        .bind(agent.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
    }
    let ws: i64 = sqlx::query("SELECT workspace_id FROM agents WHERE id = $1")
        .bind(agent.0)
        .fetch_one(&mut *tx)
        .await?
        .try_get("workspace_id")?;
    tx.commit().await?;
    if back {
        tracing::info!(agent = agent.0, "active again: back online");
        crate::routing::drain_queue(state, ws).await?;
    }
    Ok(())
}

/// `POST /v1/me/heartbeat`.
pub async fn heartbeat(
    State(state): State<AppState>,
    caller: AgentCaller,
    body: axum::body::Bytes,
) -> AppResult<StatusCode> {
    // The body is optional: an empty one is a plain "still here".
    let active = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        serde_json::from_slice::<HeartbeatRequest>(&body)
            .map_err(|e| AppError::new(ErrorCode::InvalidJson, format!("heartbeat body: {e}")))?
            .active
    };
    seen(&state, caller.agent.id, active).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One pass of the availability rules. Returns how many agents changed.
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let grace = state.config.offline_grace.as_millis() as i64;
    let offline = sqlx::query(
        "UPDATE agents SET availability = 'offline', auto_away = 0 \
         WHERE availability <> 'offline' AND COALESCE(last_seen_at, 0) < $1",
    )
    .bind(now - grace)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let mut away = 0;
    if let Some(idle) = state.config.idle_away {
        away = sqlx::query(
            "UPDATE agents SET availability = 'away', auto_away = 1 \
             WHERE availability = 'online' AND COALESCE(last_active_at, 0) < $1",
        )
        .bind(now - idle.as_millis() as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    if offline + away > 0 {
        tracing::info!(offline, away, "availability updated");
    }
    Ok((offline + away) as usize)
}

/// The availability worker.
pub async fn run_availability(state: AppState) {
    loop {
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "availability sweep failed");
        }
        state.presence.expire();
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
