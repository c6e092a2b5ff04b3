//! Live events: a data-free "poke" per workspace whenever the change log grows. Clients
//! pull `/v1/sync` when the poke's cursor is above theirs.

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use handoff_protocol::ServerEvent;
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
    let workspace_id = caller.agent.workspace_id.0;
    Ok(ws.on_upgrade(move |socket| serve(state, socket, workspace_id)))
}

async fn serve(state: AppState, mut socket: WebSocket, workspace_id: i64) {
    let mut rx = state.hub.subscribe();
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
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() { return; }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, event: &ServerEvent) -> Result<(), axum::Error> {
    let text = serde_json::to_string(event).expect("events serialize");
    socket.send(WsMessage::Text(text.into())).await
}
