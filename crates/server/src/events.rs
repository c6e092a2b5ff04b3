//! Live events: a data-free "poke" per workspace whenever the change log grows. Clients
//! pull `/v1/sync` when the poke's cursor is above theirs.

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use handoff_protocol::{Agent, AgentId, ClientEvent, ServerEvent};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::auth::AgentCaller;
use crate::error::AppResult;
use crate::{store, AppState};

/// What crosses from one server process to the others (PostgreSQL NOTIFY): pokes and
/// live-only events, so a client connected to any replica hears about everything.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Live {
    Poke { w: i64, c: i64 },
    Event { w: i64, to: Option<AgentId>, e: ServerEvent },
}

/// Where live messages go besides this process (set when other replicas may exist).
pub type Bridge = std::sync::OnceLock<mpsc::UnboundedSender<Live>>;

#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<(i64, i64, std::time::Instant)>,
    pub bridge: Bridge,
}

impl Default for Hub {
    fn default() -> Self {
        Hub { tx: broadcast::channel(1024).0, bridge: Bridge::new() }
    }
}

impl Hub {
    /// Pokes this process's clients and the other replicas'.
    pub fn poke(&self, workspace_id: i64, cursor: i64) {
        self.poke_local(workspace_id, cursor);
        if let Some(b) = self.bridge.get() {
            let _ = b.send(Live::Poke { w: workspace_id, c: cursor });
        }
    }

    /// Pokes this process's clients only (a poke from another replica).
    pub fn poke_local(&self, workspace_id: i64, cursor: i64) {
        let _ = self.tx.send((workspace_id, cursor, std::time::Instant::now()));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<(i64, i64, std::time::Instant)> {
        self.tx.subscribe()
    }
}

const CHANNEL: &str = "handoff_live";

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The process that sent it (it ignores its own).
    o: u64,
    #[serde(flatten)]
    live: Live,
}

/// Connects this process to the other replicas through PostgreSQL LISTEN/NOTIFY:
/// local pokes and live events go out, the others' come in. Reconnects when the
/// connection drops (a missed poke is caught up by the next one, or by the client's
/// own reconnect).
pub async fn run_bridge(state: AppState, mut out: mpsc::UnboundedReceiver<Live>) {
    let origin: u64 = rand::random();
    let url = state.config.database_url.clone();
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "live bridge: cannot connect; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "live bridge: LISTEN failed; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        loop {
            tokio::select! {
                msg = out.recv() => {
                    let Some(live) = msg else { return };
                    let payload = serde_json::to_string(&Envelope { o: origin, live }).expect("serializes");
                    if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&state.db.pool).await {
                        tracing::warn!(error = %e, "live bridge: NOTIFY failed");
                    }
                }
                got = listener.recv() => match got {
                    Ok(n) => match serde_json::from_str::<Envelope>(n.payload()) {
                        Ok(env) if env.o == origin => {}
                        Ok(env) => match env.live {
                            Live::Poke { w, c } => state.hub.poke_local(w, c),
                            Live::Event { w, to, e } => state.presence.deliver_remote(w, to, e),
                        },
                        Err(e) => tracing::warn!(error = %e, "live bridge: unreadable notification"),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "live bridge: connection lost; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}

pub async fn events(State(state): State<AppState>, caller: AgentCaller, ws: WebSocketUpgrade) -> AppResult<Response> {
    Ok(ws.on_upgrade(move |socket| async move {
        let agent = caller.agent;
        serve(&state, socket, &agent).await;
        state.presence.leave_all(&agent);
    }))
}

/// A frame from the app: presence in a conversation, or activity.
async fn client_event(state: &AppState, agent: &Agent, text: &str) {
    match serde_json::from_str::<ClientEvent>(text) {
        Ok(ClientEvent::Presence { conversation_id, state: p }) => {
            match crate::presence::may_see(state, agent, conversation_id).await {
                Ok(true) => state.presence.set(agent, conversation_id, p),
                Ok(false) => {
                    tracing::debug!(conversation = conversation_id.0, "presence for an invisible conversation")
                }
                Err(e) => tracing::warn!(error = %e, "presence check failed"),
            }
        }
        Ok(ClientEvent::Active) => {
            if let Err(e) = crate::presence::seen(state, agent.id, true).await {
                tracing::warn!(error = %e, "activity not recorded");
            }
        }
        Err(e) => tracing::debug!(error = %e, "unreadable client event ignored"),
    }
}

async fn serve(state: &AppState, socket: WebSocket, agent: &Agent) {
    use std::sync::atomic::Ordering;
    state.telemetry.connected.fetch_add(1, Ordering::Relaxed);
    serve_connected(state, socket, agent).await;
    state.telemetry.connected.fetch_sub(1, Ordering::Relaxed);
}

async fn serve_connected(state: &AppState, mut socket: WebSocket, agent: &Agent) {
    let workspace_id = agent.workspace_id.0;
    let mut rx = state.hub.subscribe();
    let mut presence = state.presence.subscribe();
    if let Err(e) = crate::presence::seen(state, agent.id, false).await {
        tracing::warn!(error = %e, "could not record the app's presence");
    }
    let cursor = match state.db.pool.acquire().await {
        Ok(mut conn) => store::max_seq(&mut conn, workspace_id).await.unwrap_or(0),
        Err(_) => 0,
    };
    if send(&mut socket, &ServerEvent::Hello { cursor }).await.is_err() {
        return;
    }
    let every = std::time::Duration::from_secs(20);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Ok((ws, cursor, at)) if ws == workspace_id => {
                    if send(&mut socket, &ServerEvent::Poke { cursor }).await.is_err() { return; }
                    state.telemetry.fanout_lag.observe(at.elapsed().as_secs_f64());
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Missed pokes are harmless: one poke with the newest cursor covers them.
                    let cursor = match state.db.pool.acquire().await {
                        Ok(mut conn) => store::max_seq(&mut conn, workspace_id).await.unwrap_or(0),
                        Err(_) => 0,
                    };
                    if send(&mut socket, &ServerEvent::Poke { cursor }).await.is_err() { return; }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            got = presence.recv() => match got {
                Ok((ws, Some(to), event)) if ws == workspace_id => {
                    if to == agent.id && send(&mut socket, &event).await.is_err() {
                        return;
                    }
                }
                Ok((ws, None, event)) if ws == workspace_id => {
                    let ServerEvent::Presence { conversation_id, agent_id, .. } = &event else { continue };
                    if *agent_id == agent.id {
                        continue;
                    }
                    if matches!(crate::presence::may_see(state, agent, *conversation_id).await, Ok(true))
                        && send(&mut socket, &event).await.is_err()
                    {
                        return;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(WsMessage::Text(text))) => client_event(state, agent, &text).await,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() { return; }
                if let Err(e) = crate::presence::seen(state, agent.id, false).await {
                    tracing::warn!(error = %e, "could not record the app's presence");
                }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, event: &ServerEvent) -> Result<(), axum::Error> {
    let text = serde_json::to_string(event).expect("events serialize");
    socket.send(WsMessage::Text(text.into())).await
}
