//! Presence and availability over the real event stream, on SQLite and PostgreSQL:
//! who is viewing or typing reaches everyone else who can see the conversation (and
//! nobody who cannot); an agent whose app goes quiet goes offline after the grace
//! period, an idle one goes away, and activity brings them back and drains the queue.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestApi, TestStack};
use handoff_server::{on_both_backends, presence, Backend};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

on_both_backends!(presence_reaches_those_who_can_see_the_conversation, availability_follows_the_app_and_the_person);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(stack: &TestStack, token: &str) -> Socket {
    let mut req = format!("ws://{}/v1/events", stack.server.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert!(matches!(next(&mut ws, 10).await, Some(ServerEvent::Hello { .. })));
    ws
}

/// The next presence (or hello) event within `secs`, skipping pokes.
async fn next(ws: &mut Socket, secs: u64) -> Option<ServerEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??.ok()?;
        if let Ws::Text(t) = msg {
            let e: ServerEvent = serde_json::from_str(&t).unwrap();
            if !matches!(e, ServerEvent::Poke { .. }) {
                return Some(e);
            }
        }
    }
}

async fn say(ws: &mut Socket, event: ClientEvent) {
    ws.send(Ws::Text(serde_json::to_string(&event).unwrap().into())).await.unwrap();
}

async fn presence_reaches_those_who_can_see_the_conversation(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let api = TestApi::new(&stack);
    let ana = stack.login("ana@demo.handoff.dev").await;
    let maya = stack.login("maya@demo.handoff.dev").await;
    let ana_t = ana.token.expose().to_owned();
    api.ok("PUT", "/v1/me/availability", &ana_t, Some(json!({ "availability": "online" }))).await;
    let (conv, owner) = api.escalate("499000", json!({})).await;
    assert_eq!(owner, Some(ana.agent.id.0));
    // Olga works in another team only: she cannot see this conversation.
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let (olga, olga_t) = stack.add_agent(1, "olga@demo.test", "Olga", "agent").await;
    let teams: Vec<Team> = stack.get_json("/v1/teams", &omar).await;
    let default = teams.iter().find(|t| t.is_default).unwrap();
    let rest: Vec<i64> = default.member_ids.iter().map(|a| a.0).filter(|a| *a != olga).collect();
    api.ok("PATCH", &format!("/v1/teams/{}", default.id), &omar, Some(json!({ "member_ids": rest }))).await;
    api.ok("POST", "/v1/teams", &omar, Some(json!({ "name": "Other", "member_ids": [olga] }))).await;

    let mut ana_ws = connect(&stack, &ana_t).await;
    let mut maya_ws = connect(&stack, maya.token.expose()).await;
    let mut olga_ws = connect(&stack, &olga_t).await;
    say(&mut ana_ws, ClientEvent::Presence { conversation_id: ConversationId(conv), state: PresenceState::Typing })
        .await;
    let seen = next(&mut maya_ws, 10).await;
    assert_eq!(
        seen,
        Some(ServerEvent::Presence {
            conversation_id: ConversationId(conv),
            agent_id: ana.agent.id,
            agent_name: "Ana Alvarez".into(),
            state: PresenceState::Typing,
        })
    );
    // Maya starts a draft: Ana sees it (collision warning); nobody hears about themselves.
    let r = reqwest::Client::new()
        .put(format!("{}/v1/conversations/{conv}/presence", stack.url()))
        .bearer_auth(maya.token.expose())
        .json(&json!({ "state": "draft" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    match next(&mut ana_ws, 10).await {
        Some(ServerEvent::Presence { agent_id, state, .. }) => {
            assert_eq!((agent_id, state), (maya.agent.id, PresenceState::Draft))
        }
        other => panic!("Ana sees Maya's draft: {other:?}"),
    }
    let list: Vec<PresenceEntry> = stack.get_json(&format!("/v1/conversations/{conv}/presence"), &ana_t).await;
    let states: Vec<(AgentId, PresenceState)> = list.iter().map(|p| (p.agent_id, p.state)).collect();
    assert_eq!(states, [(ana.agent.id, PresenceState::Typing), (maya.agent.id, PresenceState::Draft)]);
    // Olga neither receives it nor may ask or announce.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/conversations/{conv}/presence", stack.url()))
        .bearer_auth(&olga_t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Ana's app closes: the others see her leave.
    ana_ws.close(None).await.unwrap();
    match next(&mut maya_ws, 10).await {
        Some(ServerEvent::Presence { agent_id, state, .. }) => {
            assert_eq!((agent_id, state), (ana.agent.id, PresenceState::Left))
        }
        other => panic!("Maya sees Ana leave: {other:?}"),
    }
    assert_eq!(next(&mut olga_ws, 1).await, None, "Olga heard nothing");
}

async fn availability_follows_the_app_and_the_person(backend: Backend) {
    let stack = TestStack::start_with(backend, |c| {
        c.offline_grace = Duration::from_secs(60);
        c.idle_away = Some(Duration::from_secs(300));
    })
    .await;
    let api = TestApi::new(&stack);
    let state = &stack.server.state;
    let ana = stack.login("ana@demo.handoff.dev").await;
    let ben = stack.login("ben@demo.handoff.dev").await;
    let (ana_t, ben_t) = (ana.token.expose().to_owned(), ben.token.expose().to_owned());
    let omar = stack.login("omar@demo.handoff.dev").await.token.expose().to_owned();
    let stack_ref = &stack;
    let omar_ref = &omar;
    let availability = |id: AgentId| async move {
        let all: Vec<AgentProfile> = stack_ref.get_json("/v1/agents", omar_ref).await;
        all.into_iter().find(|a| a.id == id).unwrap().availability
    };
    api.ok("PUT", "/v1/me/availability", &ana_t, Some(json!({ "availability": "online" }))).await;
    api.ok("PUT", "/v1/me/availability", &ben_t, Some(json!({ "availability": "online" }))).await;
    // Ana's app keeps its event stream open (seen every ping); Ben's disappears.
    let mut ana_ws = connect(&stack, &ana_t).await;
    state.clock.advance(Duration::from_secs(40));
    presence::seen(state, ana.agent.id, false).await.unwrap(); // what the stream's ping does
    state.clock.advance(Duration::from_secs(30));
    presence::sweep(state).await.unwrap();
    assert_eq!(availability(ben.agent.id).await, Availability::Offline, "70 s without Ben's app");
    assert_eq!(availability(ana.agent.id).await, Availability::Online);
    // Offline agents get nothing.
    let (c1, owner) = api.escalate("499100", json!({})).await;
    assert_eq!(owner, Some(ana.agent.id.0));

    // Ana idles (her app is there, she is not): away after 300 s, and gets nothing.
    for _ in 0..6 {
        state.clock.advance(Duration::from_secs(55));
        presence::seen(state, ana.agent.id, false).await.unwrap();
    }
    presence::sweep(state).await.unwrap();
    assert_eq!(availability(ana.agent.id).await, Availability::Away);
    let (c2, owner) = api.escalate("499101", json!({})).await;
    assert_eq!(owner, None);
    // She touches the keyboard: online again, and the waiting conversation is hers.
    say(&mut ana_ws, ClientEvent::Active).await;
    eventually(10, "Ana back online with the queued conversation", || async {
        (api.assignee(c2).await == Some(ana.agent.id.0)).then_some(())
    })
    .await;
    assert_eq!(availability(ana.agent.id).await, Availability::Online);
    // Choosing "away" herself is not undone by activity.
    api.ok("PUT", "/v1/me/availability", &ana_t, Some(json!({ "availability": "away" }))).await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/me/heartbeat", stack.url()))
        .bearer_auth(&ana_t)
        .json(&json!({ "active": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(availability(ana.agent.id).await, Availability::Away);
    let _ = c1;
}
