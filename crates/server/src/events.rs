//! Live events: a data-free "poke" per workspace whenever the change log grows. Clients
//! pull `/v1/sync` when the poke's cursor is above theirs.

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use handoff_protocol::{Agent, ClientEvent, ServerEvent};
use tokio::sync::broadcast;

use crate::auth::AgentCaller;
use crate::error::AppResult;
use crate::{store, AppState};

#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<(i64, i64)>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub { tx: broadcast::channel(1024).0 }
    }
}

impl Hub {
    pub fn poke(&self, workspace_id: i64, cursor: i64) {
        let _ = self.tx.send((workspace_id, cursor));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<(i64, i64)> {
        self.tx.subscribe()
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

async fn serve(state: &AppState, mut socket: WebSocket, agent: &Agent) {
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
                Ok((ws, cursor)) if ws == workspace_id => {
                    if send(&mut socket, &ServerEvent::Poke { cursor }).await.is_err() { return; }
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
