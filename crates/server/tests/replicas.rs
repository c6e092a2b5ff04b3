//! Several server replicas on one PostgreSQL database: a client connected to one
//! replica hears what happens on another (pokes for changes, presence, mentions),
//! carried by LISTEN/NOTIFY. (SQLite is the single-process deployment.)

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use handoff_protocol::*;
use handoff_server::testkit::{TestApi, TestStack};
use handoff_server::Backend;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr, token: &str) -> Socket {
    let mut req = format!("ws://{addr}/v1/events").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The next event matching `want` within 10 s.
async fn expect(ws: &mut Socket, what: &str, want: impl Fn(&ServerEvent) -> bool) -> ServerEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {what} within 10 s"))
            .unwrap()
            .unwrap();
        if let Ws::Text(t) = msg {
            let e: ServerEvent = serde_json::from_str(&t).unwrap();
            if want(&e) {
                return e;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_cross_replicas() {
    let stack = TestStack::start(Backend::Postgres).await;
    let api = TestApi::new(&stack);
    // A second replica on the same database.
    let b = handoff_server::start(handoff_server::Config::for_tests(&stack.database_url, &stack.sandbox.url()))
        .await
        .unwrap();
    let ana = stack.login("ana@demo.handoff.dev").await;
    let maya = stack.login("maya@demo.handoff.dev").await;
    api.ok("PUT", "/v1/me/availability", ana.token.expose(), Some(json!({ "availability": "online" }))).await;
    let (conv, _) = api.escalate("485000", json!({})).await;

    // Ana on replica A, Maya on replica B.
    let mut ana_ws = connect(stack.server.addr, ana.token.expose()).await;
    let mut maya_ws = connect(b.addr, maya.token.expose()).await;
    expect(&mut ana_ws, "hello", |e| matches!(e, ServerEvent::Hello { .. })).await;
    let ServerEvent::Hello { cursor } = expect(&mut maya_ws, "hello", |e| matches!(e, ServerEvent::Hello { .. })).await
    else {
        unreachable!()
    };

    // A change made through A pokes Maya on B.
    api.ok("POST", &format!("/v1/conversations/{conv}/notes"), ana.token.expose(), Some(json!({ "text": "on it" })))
        .await;
    expect(
        &mut maya_ws,
        "a poke from the other replica",
        |e| matches!(e, ServerEvent::Poke { cursor: c } if *c > cursor),
    )
    .await;

    // Presence on A reaches B; B knows it when asked.
    let typing = ClientEvent::Presence { conversation_id: ConversationId(conv), state: PresenceState::Typing };
    ana_ws.send(Ws::Text(serde_json::to_string(&typing).unwrap().into())).await.unwrap();
    let seen = expect(&mut maya_ws, "Ana's presence", |e| matches!(e, ServerEvent::Presence { .. })).await;
    assert_eq!(
        seen,
        ServerEvent::Presence {
            conversation_id: ConversationId(conv),
            agent_id: ana.agent.id,
            agent_name: "Ana Alvarez".into(),
            state: PresenceState::Typing
        }
    );
    let r = reqwest::Client::new()
        .get(format!("http://{}/v1/conversations/{conv}/presence", b.addr))
        .bearer_auth(maya.token.expose())
        .send()
        .await
        .unwrap();
    let list: Vec<PresenceEntry> = r.json().await.unwrap();
    assert_eq!(list.iter().map(|p| (p.agent_id, p.state)).collect::<Vec<_>>(), [(ana.agent.id, PresenceState::Typing)]);

    // A mention written on B reaches Ana on A.
    let r = reqwest::Client::new()
        .post(format!("http://{}/v1/conversations/{conv}/notes", b.addr))
        .bearer_auth(maya.token.expose())
        .json(&json!({ "text": "@ana the customer is a VIP" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let m = expect(&mut ana_ws, "the mention", |e| matches!(e, ServerEvent::Mentioned { .. })).await;
    assert!(matches!(m, ServerEvent::Mentioned { by_name, .. } if by_name == "Maya Lindqvist"));
}
