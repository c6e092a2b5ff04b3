//! inbox-core driven against the real Handoff server over real HTTP and WebSocket, with
//! tokens in the real OS keyring (run inside scripts/desktop-session.sh).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use handoff_protocol::*;
use handoff_server::testkit::{eventually, TestStack};
use handoff_server::Backend;
use inbox_core::{
    CoreError, Escalation, Inbox, InboxListener, KeyringStore, OutboxKind, SecretStore, SlaAlert, Tokens,
};
use serde_json::json;

#[derive(Default)]
struct Recorder {
    connected: AtomicBool,
    escalations: Mutex<Vec<Escalation>>,
    changes: Mutex<usize>,
    live: Mutex<Vec<ServerEvent>>,
    sla: Mutex<Vec<SlaAlert>>,
    summaries: Mutex<Vec<(usize, usize)>>,
}

impl InboxListener for Recorder {
    fn changed(&self, _ids: Vec<ConversationId>) {
        *self.changes.lock().unwrap() += 1;
    }
    fn connection(&self, connected: bool) {
        self.connected.store(connected, Ordering::SeqCst);
    }
    fn escalated(&self, e: Escalation) {
        self.escalations.lock().unwrap().push(e);
    }
    fn session_ended(&self, _e: &CoreError) {}
    fn escalations_summary(&self, assigned: usize, queued: usize) {
        self.summaries.lock().unwrap().push((assigned, queued));
    }
    fn live(&self, e: &ServerEvent) {
        self.live.lock().unwrap().push(e.clone());
    }
    fn sla_alert(&self, a: SlaAlert) {
        self.sla.lock().unwrap().push(a);
    }
}

fn keyring() -> Arc<KeyringStore> {
    Arc::new(KeyringStore::with_namespace(&format!("test-{}-{:08x}", std::process::id(), rand_u32())))
}

fn rand_u32() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
}

const CUSTOMER: &str = "5511987654321";

async fn wait_connected(r: &Recorder) {
    eventually(10, "the live connection", || async { r.connected.load(Ordering::SeqCst).then_some(()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sync_live_escalation_reply_and_logout() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = keyring();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    assert!(inbox.session().await.unwrap().is_none());

    // Wrong password: a stable code, nothing stored.
    let err = inbox.login(&stack.url(), "ana@demo.handoff.dev", "nope".into()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidCredentials);
    let err = inbox.login("not a url", "ana@demo.handoff.dev", "x".into()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);

    let session =
        inbox.login(&format!("{}/", stack.url()), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    assert_eq!(session.agent.email, "ana@demo.handoff.dev");
    assert_eq!(session.agent.availability, Availability::Online, "logging in goes online");
    assert_eq!(session.workspace_name, "Acme Support");
    wait_connected(&rec).await;

    // The token is in the OS keyring, and nowhere in the local database.
    let saved = secrets.get(&format!("{}|ana@demo.handoff.dev", stack.url())).unwrap().expect("tokens in keyring");
    let tokens = Tokens::from_secret(&saved);
    let token = tokens.access.clone().unwrap();
    let refresh = tokens.refresh.clone().expect("a refresh token");
    assert!(token.expose().starts_with("hos_") && refresh.expose().starts_with("hor_"));
    let db_path = dir.path().join("inbox.db");
    for file in [db_path.clone(), dir.path().join("inbox.db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            for t in [&token, &refresh] {
                assert!(!bytes.windows(t.expose().len()).any(|w| w == t.expose().as_bytes()), "token in {file:?}");
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&db_path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // A customer asks the bot, then for a person: a live event brings it in.
    let sb = &stack.sandbox.sandbox;
    sb.customer_says(CUSTOMER, "Rafael Souza", "How long does shipping take?").await.unwrap();
    eventually(10, "the bot's answer", || async {
        (!sb.transcript(CUSTOMER).await.iter().all(|l| l.from == "customer")).then_some(())
    })
    .await;
    sb.customer_says(CUSTOMER, "Rafael Souza", "I want to talk to a human").await.unwrap();
    let esc = eventually(10, "the escalation", || async { rec.escalations.lock().unwrap().first().cloned() }).await;
    assert_eq!(esc.conversation.contact.name.as_deref(), Some("Rafael Souza"));
    assert_eq!(esc.handoff.as_ref().unwrap().trigger, HandoffTrigger::CustomerRequest);
    let (title, body) = esc.notification_text();
    assert_eq!(title, "Rafael Souza needs a person");
    assert!(body.contains("human"), "{body}");
    let id = esc.conversation.id;
    let list = inbox.conversations().await.unwrap();
    assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    let thread = eventually(10, "the whole history", || async {
        let t = inbox.thread(id).await.unwrap();
        (t.messages.len() >= 4).then_some(t)
    })
    .await;
    let authors: Vec<Author> = thread.messages.iter().map(|m| m.author).collect();
    assert_eq!(&authors[..4], &[Author::Customer, Author::Bot, Author::Customer, Author::Bot]);
    assert!(thread.handoffs[0].reason.contains("human"));

    // A photo the customer sends is fetched by the server and shown from a data: URL.
    let photo = vec![0xFFu8, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];
    let (photo_wamid, _) =
        sb.customer_sends_media(CUSTOMER, "image", "image/jpeg", photo.clone(), None, None).await.unwrap();
    let photo_msg = eventually(15, "the photo, fetched", || async {
        inbox.thread(id).await.unwrap().messages.into_iter().find(|m| {
            m.wamid.as_deref() == Some(photo_wamid.as_str()) && m.media.as_ref().is_some_and(|x| x.status == "ready")
        })
    })
    .await;
    assert_eq!(inbox.media_data_url(photo_msg.id).await.unwrap(), "data:image/jpeg;base64,/9j/4AECAwQ=");
    let thread = inbox.thread(id).await.unwrap();

    // Templates: listed from the registry, sent through the server to the Graph API.
    let templates = eventually(10, "the template registry", || async {
        let t = inbox.templates().await.unwrap();
        (t.len() == 4).then_some(t)
    })
    .await;
    assert!(templates.iter().any(|t| t.name == "order_update" && t.status == "APPROVED"));
    let m = inbox.send_template(id, "order_update", "en_US", vec!["Rafael".into(), "#4821".into()]).await.unwrap();
    assert_eq!(m.kind, "template");
    eventually(10, "the template at the Graph API", || async {
        sb.sent().await.into_iter().find(|s| s.body["template"]["name"] == "order_update").map(|_| ())
    })
    .await;
    let err = inbox.send_template(id, "spring_sale", "en_US", vec!["20%".into()]).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::TemplateNotApproved);

    // Opening the thread shows the customer blue ticks; typing shows the indicator.
    inbox.mark_read(id).await.unwrap();
    inbox.typing(id).await.unwrap();
    let last_inbound =
        thread.messages.iter().rev().find(|m| m.author == Author::Customer).unwrap().wamid.clone().unwrap();
    let reads = sb.reads().await;
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0], json!({"messaging_product": "whatsapp", "status": "read", "message_id": last_inbound}));
    assert_eq!(reads[1]["typing_indicator"], json!({"type": "text"}));

    // Reply: pending at once, then at the Graph API exactly once, then read.
    let pending = inbox.send_reply(id, "Olá Rafael! Ana here, checking your order now.", None).await.unwrap();
    assert!(pending.id.0 < 0);
    assert_eq!(pending.status, DeliveryStatus::Queued);
    let sent = eventually(10, "the reply at the Graph API", || async {
        sb.sent().await.into_iter().find(|s| s.body["text"]["body"] == "Olá Rafael! Ana here, checking your order now.")
    })
    .await;
    assert_eq!(sent.body["to"], CUSTOMER);
    eventually(10, "the reply to be read, locally", || async {
        let t = inbox.thread(id).await.unwrap();
        t.messages
            .iter()
            .any(|m| m.author == Author::Agent && m.status == DeliveryStatus::Read && m.id.0 > 0)
            .then_some(())
    })
    .await;
    assert!(inbox.store().outbox(None).await.unwrap().is_empty());
    assert_eq!(rec.escalations.lock().unwrap().len(), 1, "announced once");

    // A quoted reply (through the outbox), a PDF (uploaded, then sent by media id) and
    // reply buttons, each at the Graph API once.
    let quoted = thread.messages.iter().rev().find(|m| m.author == Author::Customer).unwrap();
    inbox.send_reply(id, "About this one:", Some(quoted.id)).await.unwrap();
    let pdf = b"%PDF-1.4 label".to_vec();
    let doc =
        inbox.send_attachment(id, ("label März.pdf", "application/pdf", pdf), "Your return label", None).await.unwrap();
    assert_eq!((doc.kind.as_str(), doc.media.map(|m| m.status)), ("document", Some("ready".to_owned())));
    let menu = inbox.send_interactive(id, "Anything else?", vec!["No, thanks".into(), " ".into()], None).await.unwrap();
    assert_eq!(menu.kind, "interactive");
    let err = inbox.send_attachment(id, ("a.exe", "application/x-msdownload", vec![1]), "", None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedMediaType);
    let calls = eventually(10, "the three sends", || async {
        let s = sb.sent().await;
        let has = |f: &dyn Fn(&serde_json::Value) -> bool| s.iter().filter(|c| f(&c.body)).count();
        let counts = (
            has(&|b| b["context"]["message_id"] == last_inbound.as_str() && b["text"]["body"] == "About this one:"),
            has(&|b| b["document"]["filename"] == "label März.pdf" && b["document"]["id"].is_string()),
            has(&|b| b["interactive"]["action"]["buttons"][0]["reply"]["title"] == "No, thanks"),
        );
        (counts != (0, 0, 0) && counts.0 + counts.1 + counts.2 == 3).then_some(counts)
    })
    .await;
    assert_eq!(calls, (1, 1, 1));

    // Restart the app: the session comes back from the keyring, the data from disk.
    drop(inbox);
    let rec2 = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec2.clone()).await.unwrap();
    assert_eq!(inbox.conversations().await.unwrap().len(), 1, "offline copy available before any network");
    let restored = inbox.session().await.unwrap().expect("session restored");
    assert_eq!(restored.agent.id, session.agent.id);
    wait_connected(&rec2).await;

    // Resolve: back to automation, visible locally.
    inbox.resolve(id, Some("Re-shipped".into())).await.unwrap();
    let t = inbox.thread(id).await.unwrap();
    assert_eq!(t.conversation.state, ConversationState::Automation);

    // Logout revokes the token on the server and forgets it here.
    inbox.logout().await.unwrap();
    assert!(secrets.get(&format!("{}|ana@demo.handoff.dev", stack.url())).unwrap().is_none());
    assert!(inbox.conversations().await.unwrap().is_empty());
    let r =
        reqwest::Client::new().get(format!("{}/v1/me", stack.url())).bearer_auth(token.expose()).send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().code, ErrorCode::TokenRevoked);
}

/// A TCP relay to the server that can be cut, like a network that drops.
struct Relay {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (up2, conns2) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns2.lock().unwrap().push(task);
            }
        });
        Relay { addr, up, conns }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// The network drops (the relay stops passing traffic) and the app notices.
async fn go_offline(relay: &Relay, rec: &Recorder) {
    relay.cut();
    eventually(70, "the app to notice the drop", || async { (!rec.connected.load(Ordering::SeqCst)).then_some(()) })
        .await;
}

/// The admin sets `agent`'s capacity to 0: escalations wait in the queue.
async fn no_room(stack: &TestStack, agent: AgentId) {
    let omar = stack.login("omar@demo.handoff.dev").await;
    let r = reqwest::Client::new()
        .patch(format!("{}/v1/agents/{agent}", stack.url()))
        .bearer_auth(omar.token.expose())
        .json(&json!({ "capacity": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn assigned_conversation(stack: &TestStack, inbox: &Inbox, wa_id: &str) -> ConversationId {
    stack.sandbox.sandbox.customer_says(wa_id, "Amelia", "can I speak to someone").await.unwrap();
    eventually(10, "an assigned conversation locally", || async {
        inbox
            .conversations()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.contact.wa_id.as_deref() == Some(wa_id) && c.state == ConversationState::Assigned)
            .map(|c| c.id)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_replies_survive_a_restart_and_apply_once() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let relay = Relay::start(stack.server.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = keyring();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    inbox.login(&relay.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    let id = assigned_conversation(&stack, &inbox, "447700900123").await;
    let id2 = assigned_conversation(&stack, &inbox, "447700900999").await;

    // The network drops.
    go_offline(&relay, &rec).await;
    let m = inbox.send_reply(id, "Sorry for the wait, Amelia!", None).await.unwrap();
    assert_eq!(m.status, DeliveryStatus::Queued);
    inbox.send_reply(id2, "This one will be refused", None).await.unwrap();
    // Meanwhile the second conversation is resolved elsewhere (a manager).
    let maya = stack.login("maya@demo.handoff.dev").await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/conversations/{}/resolve", stack.url(), id2))
        .bearer_auth(maya.token.expose())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // And the customer writes while we are offline.
    stack.sandbox.sandbox.customer_says("447700900123", "Amelia", "Hello? Anyone there?").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stack.sandbox.sandbox.sent().await.iter().all(|s| s.body["text"]["body"] != "Sorry for the wait, Amelia!"));

    // The app is restarted while offline: the queued replies are still there.
    drop(inbox);
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    let t = inbox.thread(id).await.unwrap();
    assert_eq!(t.messages.last().unwrap().status, DeliveryStatus::Queued);
    assert_eq!(inbox.store().outbox(None).await.unwrap().len(), 2);
    inbox.session().await.unwrap().expect("session restored");

    // The network returns: catch-up, then each reply applied once, or refused with a reason.
    relay.restore();
    wait_connected(&rec).await;
    eventually(15, "the outbox to drain", || async {
        let out = inbox.store().outbox(None).await.unwrap();
        (out.len() == 1 && out[0].state == "failed").then_some(())
    })
    .await;
    let failed = &inbox.store().outbox(None).await.unwrap()[0];
    assert_eq!(failed.conversation_id, id2);
    assert_eq!(failed.error.as_ref().unwrap().code, ErrorCode::NotAssignee);
    let t2 = inbox.thread(id2).await.unwrap();
    let last = t2.messages.last().unwrap();
    assert_eq!(
        (last.status, last.text.as_deref()),
        (DeliveryStatus::Failed, Some("This one will be refused")),
        "draft kept"
    );
    eventually(10, "the reply at the Graph API", || async {
        let n = stack
            .sandbox
            .sandbox
            .sent()
            .await
            .iter()
            .filter(|s| s.body["text"]["body"] == "Sorry for the wait, Amelia!")
            .count();
        (n >= 1).then_some(n)
    })
    .await;
    let n: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM messages WHERE text = 'Sorry for the wait, Amelia!'")
            .fetch_one(&stack.server.state.db.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    assert_eq!(n, 1, "applied exactly once on the server");
    // The message written while offline arrived by catch-up.
    let t = inbox.thread(id).await.unwrap();
    assert!(t.messages.iter().any(|m| m.text.as_deref() == Some("Hello? Anyone there?")));
    inbox.logout().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_announces_nothing_later_ones_announce_once() {
    let stack = TestStack::start(Backend::Sqlite).await;
    // Ana is online elsewhere and gets a conversation before this app logs in.
    let ana = stack.login("ana@demo.handoff.dev").await;
    stack.set_online(ana.token.expose()).await;
    stack.sandbox.sandbox.customer_says("14155550123", "Jordan", "agent").await.unwrap();
    eventually(10, "the earlier escalation", || async {
        let l: Vec<Conversation> = stack.get_json("/v1/conversations", ana.token.expose()).await;
        l.iter().any(|c| c.state == ConversationState::Assigned).then_some(())
    })
    .await;

    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), keyring(), rec.clone()).await.unwrap();
    inbox.login(&stack.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    eventually(10, "the first sync", || async { (inbox.conversations().await.unwrap().len() == 1).then_some(()) })
        .await;
    assert!(rec.escalations.lock().unwrap().is_empty(), "no stale alerts at shift start");

    stack.sandbox.sandbox.customer_says("14155550777", "Kim", "I need a person").await.unwrap();
    eventually(10, "the new escalation", || async { (rec.escalations.lock().unwrap().len() == 1).then_some(()) }).await;
    inbox.pull().await.unwrap();
    inbox.pull().await.unwrap();
    assert_eq!(rec.escalations.lock().unwrap().len(), 1, "each handoff announced once");
    assert_eq!(rec.escalations.lock().unwrap()[0].conversation.contact.name.as_deref(), Some("Kim"));
    inbox.logout().await.unwrap();
}

/// Access tokens last seconds here: the app renews them with the refresh token
/// without the agent noticing, keeps the new ones in the keyring, and a restarted
/// app renews from there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_access_tokens_are_renewed_quietly() {
    let stack = TestStack::start_with(Backend::Sqlite, |c| c.access_ttl = Duration::from_secs(1)).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = keyring();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    inbox.login(&stack.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    let key = format!("{}|ana@demo.handoff.dev", stack.url());
    let first = Tokens::from_secret(&secrets.get(&key).unwrap().unwrap());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let templates = inbox.templates().await.expect("renewed, then answered");
    assert!(!templates.is_empty());
    let second = eventually(10, "renewed tokens in the keyring", || async {
        let t = Tokens::from_secret(&secrets.get(&key).unwrap().unwrap());
        (t.access.as_ref().map(|a| a.expose().to_owned()) != first.access.as_ref().map(|a| a.expose().to_owned()))
            .then_some(t)
    })
    .await;
    assert_ne!(second.refresh.as_ref().unwrap().expose(), first.refresh.as_ref().unwrap().expose());
    // The old refresh token is spent: the server refuses it.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/auth/refresh", stack.url()))
        .json(&json!({ "refresh_token": first.refresh.as_ref().unwrap().expose() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // That reuse revoked the session (as theft would): the app now says so.
    let err = inbox.templates().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");

    // A fresh login, an app restart, an expired token: renewed from the keyring.
    inbox.login(&stack.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    drop(inbox);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rec2 = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec2.clone()).await.unwrap();
    inbox.session().await.unwrap().expect("restored");
    wait_connected(&rec2).await;
    assert!(!inbox.templates().await.unwrap().is_empty());
}

/// The team queue is in the local copy; when a teammate takes a conversation from
/// it, the next pull drops it here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_a_teammate_claims_leaves_the_local_copy() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), keyring(), rec.clone()).await.unwrap();
    let session = inbox.login(&stack.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    // Ana is online but has no room: the escalation waits in her team's queue.
    no_room(&stack, session.agent.id).await;
    stack.sandbox.sandbox.customer_says("5511900000001", "Bia", "I need a person").await.unwrap();
    let id = eventually(10, "the queued conversation locally", || async {
        inbox.conversations().await.unwrap().into_iter().find(|c| c.state == ConversationState::Waiting).map(|c| c.id)
    })
    .await;
    assert!(!inbox.thread(id).await.unwrap().messages.is_empty());
    let ben = stack.login("ben@demo.handoff.dev").await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/conversations/{id}/claim", stack.url()))
        .bearer_auth(ben.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually(10, "the conversation gone locally", || async {
        inbox.conversations().await.unwrap().iter().all(|c| c.id != id).then_some(())
    })
    .await;
    assert!(inbox.thread(id).await.is_err(), "its messages went too");
}

/// With an idle-away policy on the server, an agent whose app reports activity stays
/// online, and one marked away for idling comes back when they touch the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_keeps_and_brings_the_agent_online() {
    let stack = TestStack::start_with(Backend::Sqlite, |c| {
        c.idle_away = Some(Duration::from_secs(300));
        c.offline_grace = Duration::from_secs(3600);
    })
    .await;
    let state = &stack.server.state;
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), keyring(), rec.clone()).await.unwrap();
    let session = inbox.login(&stack.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    let availability = || async {
        let me: Agent = stack.get_json("/v1/me", stack.login("ana@demo.handoff.dev").await.token.expose()).await;
        me.availability
    };
    state.clock.advance(Duration::from_secs(301));
    handoff_server::presence::sweep(state).await.unwrap();
    assert_eq!(availability().await, Availability::Away, "idle for 301 s");
    inbox.report_activity().await.unwrap();
    assert_eq!(availability().await, Availability::Online, "back at the keyboard");
    // Reports are throttled: a second one at once does not reach the server.
    state.clock.advance(Duration::from_secs(301));
    handoff_server::presence::sweep(state).await.unwrap();
    inbox.report_activity().await.unwrap();
    assert_eq!(availability().await, Availability::Away, "the second report within 30 s was not sent");
    let _ = session;
}

/// Two agents' apps working one queue: a claim race lost with the owner's name,
/// a transfer with a note, an internal note that mentions the colleague (who hears
/// of it live), labels, canned responses, and presence between the two apps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teamwork_from_the_app() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let open = |email: &'static str| {
        let url = stack.url();
        async move {
            let dir = tempfile::tempdir().unwrap();
            let rec = Arc::new(Recorder::default());
            let inbox = Inbox::open(dir.path(), keyring(), rec.clone()).await.unwrap();
            let s = inbox.login(&url, email, "handoff-demo".into()).await.unwrap();
            wait_connected(&rec).await;
            (inbox, rec, s, dir)
        }
    };
    let (ana, ana_rec, ana_s, _d1) = open("ana@demo.handoff.dev").await;
    let (ben, ben_rec, ben_s, _d2) = open("ben@demo.handoff.dev").await;
    // Nobody has room: the escalation waits in the queue both see.
    for id in [ana_s.agent.id, ben_s.agent.id] {
        no_room(&stack, id).await;
    }
    let omar = stack.login("omar@demo.handoff.dev").await;
    let http = reqwest::Client::new();
    stack.sandbox.sandbox.customer_says("5511900000077", "Caio", "a person please").await.unwrap();
    let id = eventually(10, "the queued conversation in both apps", || async {
        let a = ana.conversations().await.unwrap().into_iter().find(|c| c.state == ConversationState::Waiting);
        let b = ben.conversations().await.unwrap().into_iter().find(|c| c.state == ConversationState::Waiting);
        a.zip(b).map(|(a, _)| a.id)
    })
    .await;

    // Ana claims first; Ben's claim is refused with her name.
    let c = ana.claim(id).await.unwrap();
    assert_eq!(c.assignee_id, Some(ana_s.agent.id));
    let err = ben.claim(id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyClaimed);
    assert_eq!(err.to_api_error().details.unwrap()["owner"]["name"], "Ana Alvarez");

    // Presence: Ana types; Ben's app hears it... once he may see the thread. Ana's
    // note mentions him first, which brings him in.
    let note = ana.add_note(id, "@ben can you check the refund?").await.unwrap();
    assert_eq!(note.direction, Direction::Note);
    eventually(10, "Ben told of the mention", || async {
        ben_rec
            .live
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, ServerEvent::Mentioned { message_id, .. } if *message_id == note.id))
            .then_some(())
    })
    .await;
    ana.set_presence(id, PresenceState::Typing).await.unwrap();
    eventually(10, "Ben sees Ana typing", || async {
        ben_rec
            .live
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, ServerEvent::Presence { agent_id, state: PresenceState::Typing, .. } if *agent_id == ana_s.agent.id))
            .then_some(())
    })
    .await;
    assert!(ana_rec
        .live
        .lock()
        .unwrap()
        .iter()
        .all(|e| !matches!(e, ServerEvent::Presence { agent_id, .. } if *agent_id == ana_s.agent.id)));

    // Labels and canned responses.
    let c = ana.set_labels(id, vec!["refund".into(), "Refund".into()]).await.unwrap();
    assert_eq!(c.labels, ["refund"]);
    let r = http
        .post(format!("{}/v1/canned-responses", stack.url()))
        .bearer_auth(omar.token.expose())
        .json(&json!({ "shortcut": "hi", "title": "Hi", "body": "Hello {{contact.first_name}}, {{agent.first_name}} here." }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let canned = ana.canned_responses().await.unwrap();
    let rendered = ana.render_canned(canned[0].id, id).await.unwrap();
    assert_eq!(rendered.text, "Hello Caio, Ana here.");
    assert!(ana.agents().await.unwrap().iter().any(|a| a.email == "ben@demo.handoff.dev"));
    assert!(ana.teams().await.unwrap().iter().any(|t| t.is_default));

    // Ana transfers to Ben with a note: his app has it, note first.
    let c = ana.transfer(id, Some(ben_s.agent.id), None, "Refund approved, send the label").await.unwrap();
    assert_eq!(c.assignee_id, Some(ben_s.agent.id));
    let t = eventually(10, "the transfer in Ben's app", || async {
        ben.thread(id).await.ok().filter(|t| t.conversation.assignee_id == Some(ben_s.agent.id))
    })
    .await;
    assert_eq!(t.handoffs.last().unwrap().transfer_note.as_deref(), Some("Refund approved, send the label"));
}

/// An SLA warning, then the breach, on Ana's conversation each reach her app once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sla_warnings_on_my_conversations_are_announced_once() {
    let stack = TestStack::start_with(Backend::Sqlite, |c| c.offline_grace = Duration::from_secs(24 * 3600)).await;
    let state = &stack.server.state;
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), keyring(), rec.clone()).await.unwrap();
    inbox.login(&stack.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    let id = assigned_conversation(&stack, &inbox, "5511900000099").await;
    // Normal priority: first response due in 15 minutes, warning at 75%.
    state.clock.advance(Duration::from_secs(12 * 60));
    handoff_server::sla::tick(state).await.unwrap();
    let warned = eventually(10, "the SLA warning", || async { rec.sla.lock().unwrap().first().cloned() }).await;
    assert_eq!((warned.conversation.id, warned.clock.kind), (id, SlaKind::FirstResponse));
    assert!(warned.clock.breached_at.is_none());
    assert!(warned.notification_text().0.starts_with("First response due soon"));
    state.clock.advance(Duration::from_secs(4 * 60));
    handoff_server::sla::tick(state).await.unwrap();
    let breached = eventually(10, "the breach", || async {
        let l = rec.sla.lock().unwrap();
        (l.len() >= 2).then(|| l[1].clone())
    })
    .await;
    assert!(breached.clock.breached_at.is_some());
    assert!(breached.notification_text().0.starts_with("First response overdue"));
    // More pulls announce nothing again.
    inbox.pull().await.unwrap();
    assert_eq!(rec.sla.lock().unwrap().iter().filter(|a| a.clock.kind == SlaKind::FirstResponse).count(), 2);
}

/// The local copy is searchable offline: by contact name, by number, by words in
/// messages (without accents, by prefix), by label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_copy_is_searchable() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), keyring(), rec.clone()).await.unwrap();
    inbox.login(&stack.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    let id = assigned_conversation(&stack, &inbox, "5511900000123").await;
    stack.sandbox.sandbox.customer_says("5511900000123", "Amelia", "O pedido número 4471 não chegou").await.unwrap();
    eventually(10, "the message locally", || async {
        inbox
            .thread(id)
            .await
            .unwrap()
            .messages
            .iter()
            .any(|m| m.text.as_deref().is_some_and(|t| t.contains("4471")))
            .then_some(())
    })
    .await;
    inbox.set_labels(id, vec!["Entrega".into()]).await.unwrap();
    let hits = inbox.search("numero 447").await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].conversation_id, id);
    assert!(hits[0].message_id.is_some() && hits[0].snippet.contains("[número]"), "{hits:?}");
    assert!(inbox.search("amelia").await.unwrap().iter().any(|h| h.conversation_id == id && h.message_id.is_none()));
    assert!(inbox.search("5511900000123").await.unwrap().iter().any(|h| h.conversation_id == id));
    assert!(inbox.search("entrega").await.unwrap().iter().any(|h| h.conversation_id == id));
    assert!(inbox.search("\"unbalanced").await.unwrap().is_empty());
    assert!(inbox.search("   ").await.unwrap().is_empty());
}

/// Claims, notes, replies, resolves and transfers made offline wait in the outbox
/// (across a restart), then apply once and in order; one the server refuses stays,
/// with its reason, until the agent retries or discards it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_teamwork_waits_in_the_outbox_and_applies_once() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let relay = Relay::start(stack.server.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = keyring();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    let me = inbox.login(&relay.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap().agent.id;
    wait_connected(&rec).await;
    let mine = assigned_conversation(&stack, &inbox, "5511900000101").await;
    // Then Ana has no room: two more escalations wait in the queue she sees.
    no_room(&stack, me).await;
    for wa in ["5511900000102", "5511900000103"] {
        stack.sandbox.sandbox.customer_says(wa, "Queued customer", "a person please").await.unwrap();
    }
    let queued = eventually(10, "two queued conversations locally", || async {
        let q: Vec<ConversationId> = inbox
            .conversations()
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.state == ConversationState::Waiting)
            .map(|c| c.id)
            .collect();
        (q.len() == 2).then_some(q)
    })
    .await;
    let (q1, q2) = (queued[0], queued[1]);
    let ben = stack.login("ben@demo.handoff.dev").await;
    let http = reqwest::Client::new();

    go_offline(&relay, &rec).await;
    // Offline: everything returns at once and waits.
    let c = inbox.claim(q1).await.unwrap();
    assert_eq!(c.state, ConversationState::Waiting, "not claimed yet: only queued");
    let note = inbox.add_note(q1, "@ben I have this one").await.unwrap();
    assert_eq!((note.direction, note.status), (Direction::Note, DeliveryStatus::Queued));
    inbox.send_reply(q1, "Hi, Ana here. Let me look.", None).await.unwrap();
    inbox.resolve(q1, Some("answered".into())).await.unwrap();
    inbox.claim(q2).await.unwrap();
    inbox.transfer(mine, Some(AgentId(ben.agent.id.0)), None, "Needs a refund, over to you").await.unwrap();
    let kinds: Vec<OutboxKind> = inbox.outbox().await.unwrap().iter().map(|e| e.kind).collect();
    use OutboxKind::*;
    assert_eq!(kinds, [Claim, Note, Reply, Resolve, Claim, Transfer]);
    let t = inbox.thread(q1).await.unwrap();
    assert!(t.messages.iter().any(|m| m.direction == Direction::Note && m.status == DeliveryStatus::Queued));
    // Meanwhile Ben takes the second queued conversation.
    let r = http
        .post(format!("{}/v1/conversations/{q2}/claim", stack.url()))
        .bearer_auth(ben.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The app restarts while offline: the outbox is still there.
    inbox.close();
    drop(inbox);
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    assert_eq!(inbox.outbox().await.unwrap().len(), 6);
    inbox.session().await.unwrap().expect("session restored");

    relay.restore();
    wait_connected(&rec).await;
    let left = eventually(20, "the outbox to drain to the refused claim", || async {
        let out = inbox.outbox().await.unwrap();
        (out.len() == 1 && out[0].state == "failed").then_some(out)
    })
    .await;
    assert_eq!((left[0].kind, left[0].conversation_id), (Claim, q2));
    let error = left[0].error.clone().unwrap();
    assert_eq!(error.code, ErrorCode::AlreadyClaimed);

    // On the server, each change once, in order.
    let pool = &stack.server.state.db.pool;
    let count = |sql: &'static str, id: i64| async move {
        use sqlx::Row;
        sqlx::query(sql).bind(id).fetch_one(pool).await.unwrap().try_get::<i64, _>(0).unwrap()
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.claimed' AND entity_id = $1", q1.0).await,
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM messages WHERE direction = 'note' AND conversation_id = $1", q1.0).await, 1);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND author = 'agent' AND conversation_id = $1",
            q1.0
        )
        .await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM handoffs WHERE status = 'resolved' AND conversation_id = $1", q1.0).await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.transferred' AND entity_id = $1", mine.0)
            .await,
        1
    );
    let sent = stack.sandbox.sandbox.sent().await;
    assert_eq!(sent.iter().filter(|s| s.body["text"]["body"] == "Hi, Ana here. Let me look.").count(), 1);

    // The refused claim: retried, refused again (Ben still has it); then discarded.
    inbox.retry(&left[0].client_id).await.unwrap();
    let again = inbox.outbox().await.unwrap();
    assert_eq!((again.len(), again[0].state.as_str()), (1, "failed"));
    inbox.discard(&again[0].client_id).await.unwrap();
    assert!(inbox.outbox().await.unwrap().is_empty());

    // Ben's claim took it out of Ana's inbox; online, a refusal comes straight back and
    // nothing is left queued.
    assert!(inbox.conversations().await.unwrap().iter().all(|c| c.id != q2));
    let err = inbox.claim(q2).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyClaimed);
    assert_eq!(err.to_api_error().details.unwrap()["owner"]["name"], ben.agent.name);
    let err = inbox.resolve(q1, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotEscalated, "already resolved: the server says so at once");
    assert!(inbox.outbox().await.unwrap().is_empty());
    inbox.logout().await.unwrap();
}

/// 200 replies written offline are sent when the network returns; the app is killed
/// (SIGKILL, a separate process) in the middle of sending them, restarted, and the
/// customer still gets each reply exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_offline_replies_apply_once_across_a_kill_mid_flush() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let relay = Relay::start(stack.server.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let namespace = format!("test-{}-{:08x}", std::process::id(), rand_u32());
    let secrets = Arc::new(KeyringStore::with_namespace(&namespace));
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    inbox.login(&relay.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    let id = assigned_conversation(&stack, &inbox, "5511900000200").await;
    go_offline(&relay, &rec).await;
    for i in 0..200 {
        inbox.send_reply(id, &format!("offline reply {i:03}"), None).await.unwrap();
    }
    assert_eq!(inbox.outbox().await.unwrap().len(), 200);
    inbox.close();
    drop(inbox);

    // Another process (the app) starts sending when the network returns, and is killed.
    relay.restore();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_inbox-sync"))
        .args(["--data-dir", dir.path().to_str().unwrap()])
        .env("HANDOFF_KEYRING_NAMESPACE", &namespace)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pool = &stack.server.state.db.pool;
    let on_server = || async {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM messages WHERE text LIKE 'offline reply %'")
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap()
    };
    eventually(30, "some replies on the server", || async { (on_server().await >= 20).then_some(()) }).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let at_kill = on_server().await;
    assert!(at_kill < 200, "killed in the middle of the flush ({at_kill} of 200 sent)");

    // Restarted, the app sends the rest; nothing twice.
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    inbox.session().await.unwrap().expect("session restored");
    eventually(60, "the outbox to drain", || async { inbox.outbox().await.unwrap().is_empty().then_some(()) }).await;
    let rows: Vec<(String, i64)> = {
        use sqlx::Row;
        sqlx::query("SELECT text, COUNT(*) AS n FROM messages WHERE text LIKE 'offline reply %' GROUP BY text")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("text").unwrap(), r.try_get("n").unwrap()))
            .collect()
    };
    assert_eq!(rows.len(), 200, "every reply reached the server");
    assert!(
        rows.iter().all(|(_, n)| *n == 1),
        "none twice: {:?}",
        rows.iter().filter(|(_, n)| *n > 1).collect::<Vec<_>>()
    );
    // And the customer (the Graph API) got each exactly once, in order.
    let sent = eventually(60, "200 replies at the Graph API", || async {
        let texts: Vec<String> = stack
            .sandbox
            .sandbox
            .sent()
            .await
            .iter()
            .filter_map(|s| {
                s.body["text"]["body"].as_str().filter(|t| t.starts_with("offline reply")).map(String::from)
            })
            .collect();
        (texts.len() >= 200).then_some(texts)
    })
    .await;
    assert_eq!(sent.len(), 200);
    let mut sorted = sent.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 200, "each reply sent once");
    inbox.logout().await.unwrap();
}

/// Who is notified of what: the team queue, not the thread on screen, nothing while
/// do-not-disturb is on, nothing stale after a long time offline, and one summary
/// instead of a flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_follow_focus_do_not_disturb_and_freshness() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let relay = Relay::start(stack.server.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = keyring();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), secrets.clone(), rec.clone()).await.unwrap();
    let me = inbox.login(&relay.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap().agent.id;
    wait_connected(&rec).await;
    no_room(&stack, me).await;
    let queued_notices = |wa: &'static str| {
        let rec = rec.clone();
        move || {
            let rec = rec.clone();
            async move {
                rec.escalations
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|e| e.queued && e.conversation.contact.wa_id.as_deref() == Some(wa))
                    .count()
            }
        }
    };
    let waiting = |wa: &'static str| {
        let inbox = inbox.clone();
        move || {
            let inbox = inbox.clone();
            async move {
                inbox
                    .conversations()
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|c| c.contact.wa_id.as_deref() == Some(wa) && c.state == ConversationState::Waiting)
            }
        }
    };

    // The team's queue: announced once, as queued.
    stack.sandbox.sandbox.customer_says("5511900000301", "Bia", "a person please").await.unwrap();
    let first = eventually(10, "the queue notification", || async {
        let n = queued_notices("5511900000301")().await;
        (n > 0).then_some(n)
    })
    .await;
    assert_eq!(first, 1);
    let bia = waiting("5511900000301")().await.unwrap().id;
    let (title, _) = rec.escalations.lock().unwrap()[0].notification_text();
    assert_eq!(title, "Bia is waiting in the queue");

    // Do not disturb (remembered across restarts): nothing.
    inbox.set_do_not_disturb(true).await.unwrap();
    stack.sandbox.sandbox.customer_says("5511900000302", "Caio", "a person please").await.unwrap();
    eventually(10, "Caio in the queue locally", waiting("5511900000302")).await;
    assert_eq!(queued_notices("5511900000302")().await, 0);
    let again = Inbox::open(tempfile::tempdir().unwrap().path(), secrets.clone(), rec.clone()).await.unwrap();
    assert!(!again.do_not_disturb(), "a fresh data dir starts with notifications on");
    inbox.set_do_not_disturb(false).await.unwrap();

    // The thread on screen: its news needs no notification. Bia is resolved, then
    // asks again while Ana looks at her thread.
    inbox.claim(bia).await.unwrap();
    inbox.resolve(bia, None).await.unwrap();
    inbox.set_focus(Some(bia));
    stack.sandbox.sandbox.customer_says("5511900000301", "Bia", "a person again please").await.unwrap();
    eventually(10, "Bia back in the queue", waiting("5511900000301")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(queued_notices("5511900000301")().await, 1, "no second notice for the focused thread");
    inbox.set_focus(None);

    // A long time offline: four new escalations and one stale one arrive in one
    // catch-up. The stale one is not announced; the rest become one summary.
    go_offline(&relay, &rec).await;
    for wa in ["5511900000310", "5511900000311", "5511900000312", "5511900000313", "5511900000314"] {
        stack.sandbox.sandbox.customer_says(wa, "Backlog", "a person please").await.unwrap();
    }
    let pool = &stack.server.state.db.pool;
    eventually(10, "five new handoffs", || async {
        use sqlx::Row;
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM handoffs h JOIN conversations c ON c.id = h.conversation_id \
                                  JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id LIKE '55119000003__' AND k.wa_id >= '5511900000310'")
            .fetch_one(pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        (n == 5).then_some(())
    })
    .await;
    sqlx::query("UPDATE handoffs SET requested_at = requested_at - 3600000 WHERE conversation_id = \
                 (SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = '5511900000314')")
        .execute(pool)
        .await
        .unwrap();
    let before = rec.escalations.lock().unwrap().len();
    relay.restore();
    wait_connected(&rec).await;
    eventually(10, "one summary", || async { (!rec.summaries.lock().unwrap().is_empty()).then_some(()) }).await;
    assert_eq!(*rec.summaries.lock().unwrap(), [(0, 4)]);
    assert_eq!(rec.escalations.lock().unwrap().len(), before, "no single notices besides the summary");
    inbox.logout().await.unwrap();
}

/// Two servers: the app remembers both sign-ins, switches between them without a
/// password, refuses to switch while changes wait to be sent, and forgets one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_saved_servers() {
    let one = TestStack::start(Backend::Sqlite).await;
    let two = TestStack::start(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let inbox = Inbox::open(dir.path(), keyring(), rec.clone()).await.unwrap();
    inbox.login(&one.url(), "ana@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&rec).await;
    let on_one = assigned_conversation(&one, &inbox, "5511900000401").await;
    inbox.login(&two.url(), "ben@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    let servers = inbox.saved_servers().await.unwrap();
    assert_eq!(servers.len(), 2);
    assert_eq!((servers[0].server_url.as_str(), servers[0].current), (two.url().as_str(), true));
    assert_eq!(
        (servers[1].email.as_str(), servers[1].current, servers[1].signed_in),
        ("ana@demo.handoff.dev", false, true)
    );
    assert_eq!(servers[1].agent_name, "Ana Alvarez");
    assert!(
        inbox.conversations().await.unwrap().iter().all(|c| c.contact.wa_id.as_deref() != Some("5511900000401")),
        "the local copy is the second server's now"
    );

    // Back to the first server, no password: its conversations come back.
    let s = inbox.switch_server(&one.url(), "ana@demo.handoff.dev").await.unwrap();
    assert_eq!(s.agent.email, "ana@demo.handoff.dev");
    eventually(10, "the first server's conversation", || async {
        inbox.conversations().await.unwrap().into_iter().find(|c| c.contact.wa_id.as_deref() == Some("5511900000401"))
    })
    .await;

    // A change waits to be sent (the first server is down): no switching away.
    inbox.close();
    inbox.store().queue(OutboxKind::Claim, on_one, "pending-claim", "", None, None).await.unwrap();
    let err = inbox.switch_server(&two.url(), "ben@demo.handoff.dev").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::PendingChanges);
    let err = inbox.login(&two.url(), "ben@demo.handoff.dev", "handoff-demo".into()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::PendingChanges);
    inbox.discard("pending-claim").await.unwrap();

    // Forgetting the other sign-in revokes it: switching then needs the password.
    inbox.forget_server(&two.url(), "ben@demo.handoff.dev").await.unwrap();
    assert_eq!(inbox.saved_servers().await.unwrap().len(), 1);
    let err = inbox.switch_server(&two.url(), "ben@demo.handoff.dev").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotLoggedIn);
    let err = inbox.forget_server(&one.url(), "ana@demo.handoff.dev").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput, "the current sign-in is logged out, not forgotten");
    inbox.logout().await.unwrap();
    let after = inbox.saved_servers().await.unwrap();
    assert_eq!((after.len(), after[0].signed_in), (1, false), "kept for the login form, without tokens");
}

/// A manager works the board from the app: it follows the event stream, and an
/// assignment from it reaches the new owner's app as an "assigned to you" notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reassigns_from_the_board_and_the_new_owner_hears_of_it() {
    let stack = TestStack::start(Backend::Sqlite).await;
    let secrets = keyring();
    let (maya_dir, ben_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (maya_rec, ben_rec) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    let maya = Inbox::open(maya_dir.path(), secrets.clone(), maya_rec.clone()).await.unwrap();
    let ben = Inbox::open(ben_dir.path(), secrets.clone(), ben_rec.clone()).await.unwrap();
    maya.login(&stack.url(), "maya@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    ben.login(&stack.url(), "ben@demo.handoff.dev", "handoff-demo".into()).await.unwrap();
    wait_connected(&maya_rec).await;
    wait_connected(&ben_rec).await;
    // Nobody can take it: it waits on the board.
    maya.set_availability(Availability::Away).await.unwrap();
    ben.set_availability(Availability::Away).await.unwrap();
    let before = *maya_rec.changes.lock().unwrap();
    stack.sandbox.sandbox.customer_says(CUSTOMER, "Amelia", "can I speak to someone").await.unwrap();
    let entry = eventually(10, "the waiting conversation on the board", || async {
        (*maya_rec.changes.lock().unwrap() > before).then_some(())?;
        maya.board().await.unwrap().conversations.into_iter().find(|e| e.status == "waiting")
    })
    .await;
    assert_eq!(entry.contact_name, "Amelia");

    let conv = maya.set_priority(entry.conversation_id, Priority::Urgent).await.unwrap();
    assert_eq!(conv.priority, Priority::Urgent);
    let ben_id = ben.session().await.unwrap().unwrap().agent.id;
    let conv = maya.assign(entry.conversation_id, ben_id).await.unwrap();
    assert_eq!(conv.assignee_id, Some(ben_id));
    // Ben heard of it in his team's queue first, then as his.
    eventually(10, "Ben's notification", || async {
        let heard = ben_rec.escalations.lock().unwrap().clone();
        let mine = heard.iter().filter(|e| e.conversation.id == entry.conversation_id);
        mine.map(|e| e.queued).collect::<Vec<_>>().ends_with(&[false]).then_some(())
    })
    .await;
    let board = maya.board().await.unwrap();
    let row = board.conversations.iter().find(|e| e.conversation_id == entry.conversation_id).unwrap();
    assert_eq!((row.status.as_str(), row.assignee_id, row.priority), ("assigned", Some(ben_id), Priority::Urgent));

    // The timeline and the metrics come through the app too.
    let kinds: Vec<String> =
        maya.handoff_timeline(entry.handoff_id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("requested"));
    assert!(kinds.iter().any(|k| k == "priority_changed") && kinds.iter().any(|k| k == "assigned"), "{kinds:?}");
    let now = board.now;
    let q = MetricsQuery { from: now - 3_600_000, to: now + 1, ..Default::default() };
    let m = maya.metrics(&q).await.unwrap();
    assert_eq!((m.conversations, m.handoffs), (1, 1));
    assert_eq!(maya.breaches(&q).await.unwrap().items.len(), 0);
    // Agents have no board: a stable code.
    assert_eq!(ben.board().await.unwrap_err().code(), ErrorCode::Forbidden);
}

/// A bootstrap stores its pages first and indexes their words after: the index is built
/// in the background, a search right away still finds everything, and a backfill cut
/// short by a restart is finished by the next search.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_is_searchable_at_once_and_after_a_restart() {
    let stack = TestStack::start(Backend::Sqlite).await;
    stack
        .sandbox
        .sandbox
        .customer_says(CUSTOMER, "Amelia", "I want to talk to a human: parcel 9182 arrived broken")
        .await
        .unwrap();
    let maya = stack.login("maya@demo.handoff.dev").await;
    let api = inbox_core::ApiClient::new(&stack.url(), Some(maya.token.clone())).unwrap();
    let page = eventually(10, "the message in a snapshot page", || async {
        let p = api.sync(0, Some(0)).await.unwrap();
        p.messages.iter().any(|m| m.text.as_deref().is_some_and(|t| t.contains("9182"))).then_some(p)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    {
        let store = inbox_core::LocalStore::open(&path).await.unwrap();
        store.apply_with(&page, true).await.unwrap();
        assert_eq!(store.meta("search_pending").await.unwrap().as_deref(), Some("1"));
    }
    // The app stopped before indexing; the next search indexes first.
    let store = inbox_core::LocalStore::open(&path).await.unwrap();
    let hits = store.search("parcel 9182", 5).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].message_id.is_some());
    assert_eq!(store.meta("search_pending").await.unwrap(), None, "done, and marked done");
    assert_eq!(store.index_pending().await.unwrap(), 0, "nothing twice");
    // A page stored again (a later pull) keeps one row per message.
    store.apply(&page).await.unwrap();
    assert_eq!(store.search("parcel", 5).await.unwrap().len(), 1);
}
