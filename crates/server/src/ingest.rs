//! Group commit for webhook deliveries.
//!
//! Every verified delivery is handed to one committer task. It takes whatever
//! deliveries are waiting (up to [`MAX_BATCH`]), stores them all in one transaction (one
//! fsync) and only after that commit answers each waiting request, so a 200 still means
//! "on disk". Each delivery runs inside its own savepoint: one that fails is rolled back
//! alone and answered with its error (Meta retries it) while the rest of the batch
//! commits. While a batch commits, the next one gathers, so under load the cost of a
//! commit is shared by many requests and when idle a lone delivery waits for nobody.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use handoff_protocol::ErrorCode;
use handoff_whatsapp::webhook::MessagesValue;
use handoff_whatsapp::{InboundMessage, WebhookBody};
use sqlx::{AnyConnection, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use crate::db::now_ms;
use crate::engine::{self, Channel, InboundRow};
use crate::error::{AppError, AppResult};
use crate::AppState;

/// Most deliveries in one transaction.
pub const MAX_BATCH: usize = 256;

/// One verified webhook delivery waiting to be stored.
pub struct Delivery {
    /// The raw body as storable text (see `webhook::raw_text`).
    pub raw: String,
    pub parsed: Result<WebhookBody, String>,
    /// Per change of `parsed` (entry by entry): its messages value and the rows of its
    /// messages, worked out by the request's own task so the committer only writes.
    pub prepared: Vec<Option<Prepared>>,
    pub reply: oneshot::Sender<AppResult<()>>,
}

/// A messages change and the rows of its messages.
pub type Prepared = (MessagesValue, Vec<InboundRow>);

fn prepare(parsed: &Result<WebhookBody, String>) -> AppResult<Vec<Option<Prepared>>> {
    let Ok(body) = parsed else {
        return Ok(Vec::new());
    };
    let now = now_ms();
    let mut out = Vec::new();
    for change in body.entry.iter().flat_map(|e| e.changes.iter()) {
        out.push(match change.messages_value() {
            Some(v) => {
                let rows = v.messages.iter().map(|m| InboundRow::of(m, now)).collect::<AppResult<Vec<_>>>()?;
                Some((v, rows))
            }
            None => None,
        });
    }
    Ok(out)
}

/// What storing one delivery changed.
#[derive(Default)]
struct Outcome {
    touched: BTreeSet<i64>,
    new_messages: usize,
    /// New messages with text (id, workspace, text): the ones that may ask for a person.
    texts: Vec<(i64, i64, String)>,
    media: bool,
    /// Stored, but answered with this error (a signed body that is not JSON).
    refuse: Option<AppError>,
}

/// The sending half, kept in the app state.
pub type Queue = mpsc::Sender<Delivery>;

pub fn queue() -> (Queue, mpsc::Receiver<Delivery>) {
    mpsc::channel(4 * MAX_BATCH)
}

/// Background writers (automation, the send worker) call this before a transaction: while
/// webhook deliveries wait for the committer they step aside (at most `MAX_YIELD`), so
/// Meta's requests, which hold a connection open until we answer, go first. SQLite has
/// one writer; without this, each worker transaction slipping in between two batches
/// delays a whole batch of deliveries. The wait is short: under steady traffic some
/// delivery is nearly always in flight, and a long step-aside starves the workers (an
/// escalation then waits seconds behind the backlog for the bot to see it).
pub async fn make_way(state: &AppState) {
    const MAX_YIELD: std::time::Duration = std::time::Duration::from_millis(10);
    let started = tokio::time::Instant::now();
    while state.ingest_in_flight.load(Ordering::Relaxed) > 0 && started.elapsed() < MAX_YIELD {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Stores `delivery` through the committer and waits for its commit.
pub async fn submit(state: &AppState, raw: String, parsed: Result<WebhookBody, String>) -> AppResult<()> {
    struct InFlight<'a>(&'a AtomicUsize);
    impl Drop for InFlight<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    state.ingest_in_flight.fetch_add(1, Ordering::Relaxed);
    let _in_flight = InFlight(&state.ingest_in_flight);
    let prepared = prepare(&parsed)?;
    let (reply, done) = oneshot::channel();
    state
        .ingest
        .send(Delivery { raw, parsed, prepared, reply })
        .await
        .map_err(|_| AppError::Internal("the webhook committer is not running".into()))?;
    done.await.map_err(|_| AppError::Internal("the webhook committer stopped before answering".into()))?
}

/// The committer task: runs until every sender is gone.
pub async fn run_committer(state: AppState, mut rx: mpsc::Receiver<Delivery>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit_batch(&state, std::mem::take(&mut batch)).await;
        batch.reserve(MAX_BATCH);
    }
}

async fn commit_batch(state: &AppState, batch: Vec<Delivery>) {
    let mut results: Vec<AppResult<Outcome>> = Vec::with_capacity(batch.len());
    let committed: AppResult<()> = async {
        // Fast path: the whole batch with a few set-based statements.
        let mut tx = state.db.begin_write().await?;
        match store_batch(state, &mut tx, &batch).await {
            Ok(outcomes) => {
                tx.commit().await?;
                results.extend(outcomes.into_iter().map(Ok));
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(error = %e, "batch store failed; storing its deliveries one by one");
                tx.rollback().await?;
            }
        }
        // Slow path: each delivery alone in a savepoint, so one bad delivery fails alone.
        let mut tx = state.db.begin_write().await?;
        for d in &batch {
            tx.execute("SAVEPOINT delivery").await?;
            match store_batch(state, &mut tx, std::slice::from_ref(d)).await {
                Ok(mut outcome) => {
                    tx.execute("RELEASE SAVEPOINT delivery").await?;
                    results.push(Ok(outcome.remove(0)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery not stored; Meta will send it again");
                    tx.execute("ROLLBACK TO SAVEPOINT delivery").await?;
                    tx.execute("RELEASE SAVEPOINT delivery").await?;
                    results.push(Err(e));
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
    .await;
    let mut touched = BTreeSet::new();
    let mut texts = Vec::new();
    let (mut wake_automation, mut wake_media) = (false, false);
    match committed {
        Ok(()) => {
            for (d, r) in batch.into_iter().zip(results) {
                let answer = match r {
                    Ok(o) => {
                        touched.extend(o.touched);
                        texts.extend(o.texts);
                        wake_automation |= o.new_messages > 0;
                        wake_media |= o.media;
                        o.refuse.map_or(Ok(()), Err)
                    }
                    Err(e) => Err(e),
                };
                let _ = d.reply.send(answer);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, deliveries = batch.len(), "webhook batch not committed; Meta will send it again");
            for d in batch {
                let _ = d.reply.send(Err(AppError::Internal(format!("could not store the delivery: {e}"))));
            }
            return;
        }
    }
    // A customer asking for a person is handed off now, ahead of the bot's backlog (the
    // poke below then carries the handoff too).
    if let Err(e) = engine::escalate_now(state, texts).await {
        tracing::warn!(error = %e, "could not hand off at once; automation will");
    }
    if wake_automation {
        state.automation_wake.notify_one();
    }
    if wake_media {
        state.media_wake.notify_one();
    }
    for ws in touched {
        state.changed(ws).await;
    }
}

/// `($start, ...), (...)`: `rows` tuples of `cols` placeholders.
fn value_rows(start: usize, rows: usize, cols: usize) -> String {
    (0..rows).map(|r| format!("({})", crate::db::placeholders(start + r * cols, cols))).collect::<Vec<_>>().join(", ")
}

/// A sender as the batch knows it.
#[derive(Clone)]
struct KnownContact {
    id: i64,
    wa_id: Option<String>,
    bsuid: Option<String>,
    name: Option<String>,
}

/// An inbound message of the batch on its way to the set-based insert.
struct Item<'a> {
    delivery: usize,
    channel: Channel,
    msg: &'a InboundMessage,
    row: &'a InboundRow,
    wa_id: Option<&'a str>,
    bsuid: Option<&'a str>,
    name: Option<&'a str>,
}

/// Stores deliveries (their raw bodies, then every message and status in them) with a
/// handful of statements for the whole batch (each SQLite statement costs about 50 µs
/// whatever it does, so statements per message, not fsyncs, bound the rate). Contacts
/// and conversations are looked up in one query each and created one by one only when
/// new; messages, conversation updates and change-log rows are multi-row statements.
async fn store_batch(state: &AppState, conn: &mut AnyConnection, batch: &[Delivery]) -> AppResult<Vec<Outcome>> {
    let now = now_ms();
    for chunk in batch.chunks(100) {
        let sql = format!(
            "INSERT INTO webhook_events (received_at, body, parse_error) VALUES {}",
            value_rows(1, chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for d in chunk {
            q = q.bind(now).bind(&d.raw).bind(d.parsed.as_ref().err());
        }
        q.execute(&mut *conn).await?;
    }
    let mut outcomes: Vec<Outcome> = batch.iter().map(|_| Outcome::default()).collect();
    let mut values: Vec<(usize, &MessagesValue, &[InboundRow])> = Vec::new();
    // (delivery, number) for numbers no workspace has: kept whole for replay.
    let mut unrouted: BTreeSet<(usize, String)> = BTreeSet::new();
    for (i, d) in batch.iter().enumerate() {
        let parsed = match &d.parsed {
            Ok(p) => p,
            Err(e) => {
                outcomes[i].refuse =
                    Some(AppError::new(ErrorCode::InvalidJson, format!("webhook body is not valid JSON: {e}")));
                continue;
            }
        };
        let mut changes = Vec::new();
        for e in &parsed.entry {
            for c in &e.changes {
                changes.push((e, c));
            }
        }
        for ((entry, change), prepared) in changes.into_iter().zip(&d.prepared) {
            if crate::templates::apply_webhook(conn, &entry.id, &change.field, &change.value).await? {
                continue;
            }
            if change.field == "user_preferences" {
                if let Some(number) = change.value.pointer("/metadata/phone_number_id").and_then(|v| v.as_str()) {
                    if !number.is_empty() && engine::channel_for(conn, number, "").await?.is_none() {
                        unrouted.insert((i, number.to_owned()));
                        continue;
                    }
                }
                if let Some(ws) = crate::webhook::apply_preferences(state, conn, &change.value).await? {
                    outcomes[i].touched.insert(ws);
                }
                continue;
            }
            if let Some((value, rows)) = prepared {
                values.push((i, value, rows));
            }
        }
    }
    let mut items: Vec<Item> = Vec::new();
    let mut channels: HashMap<&str, Option<Channel>> = HashMap::new();
    for &(i, value, rows) in &values {
        if value.messages.is_empty() && value.statuses.is_empty() {
            continue;
        }
        let number = value.metadata.phone_number_id.as_str();
        if number.is_empty() {
            tracing::warn!("messages webhook without metadata.phone_number_id: stored raw only");
            continue;
        }
        let channel = match channels.get(number) {
            Some(c) => *c,
            None => {
                let c = engine::channel_for(conn, number, &value.metadata.display_phone_number).await?;
                channels.insert(number, c);
                c
            }
        };
        let Some(channel) = channel else {
            unrouted.insert((i, number.to_owned()));
            continue;
        };
        for (msg, row) in value.messages.iter().zip(rows) {
            if msg.id.is_empty() {
                tracing::warn!(kind = %msg.kind, "inbound message without an id: kept only in the raw webhook log");
                continue;
            }
            let Some((wa_id, bsuid, name)) = engine::sender_of(&value.contacts, msg) else {
                tracing::warn!(wamid = %msg.id, "inbound message without a sender: kept only in the raw webhook log");
                continue;
            };
            items.push(Item { delivery: i, channel, msg, row, wa_id, bsuid, name });
        }
        // Statuses concern our outbound messages, which no inbound message of
        // this batch can create: applying them before the messages is the same.
        for st in &value.statuses {
            if let Some(ws) = engine::apply_status(state, conn, st).await? {
                outcomes[i].touched.insert(ws);
            }
        }
    }
    for (i, number) in &unrouted {
        engine::keep_unrouted(conn, number, &batch[*i].raw).await?;
    }
    // Redeliveries: drop what is already stored before touching contacts, so an old
    // message creates nothing (not even a contact for a number since changed).
    if !items.is_empty() {
        let sql = format!("SELECT wamid FROM messages WHERE wamid IN ({})", crate::db::placeholders(1, items.len()));
        let mut q = sqlx::query(&sql);
        for it in &items {
            q = q.bind(&it.msg.id);
        }
        let stored: std::collections::HashSet<String> =
            q.fetch_all(&mut *conn).await?.iter().map(|r| r.try_get("wamid")).collect::<Result<_, _>>()?;
        items.retain(|it| !stored.contains(&it.msg.id));
    }
    if items.is_empty() {
        return Ok(outcomes);
    }

    // Contacts: one lookup per workspace, then created or completed one by one.
    let mut known: HashMap<i64, Vec<KnownContact>> = HashMap::new();
    let workspaces: BTreeSet<i64> = items.iter().map(|it| it.channel.workspace_id).collect();
    for ws in workspaces {
        let wa: BTreeSet<&str> =
            items.iter().filter(|it| it.channel.workspace_id == ws).filter_map(|it| it.wa_id).collect();
        let bs: BTreeSet<&str> =
            items.iter().filter(|it| it.channel.workspace_id == ws).filter_map(|it| it.bsuid).collect();
        let mut conds = Vec::new();
        if !wa.is_empty() {
            conds.push(format!("wa_id IN ({})", crate::db::placeholders(2, wa.len())));
        }
        if !bs.is_empty() {
            conds.push(format!("bsuid IN ({})", crate::db::placeholders(2 + wa.len(), bs.len())));
        }
        let sql = format!(
            "SELECT id, wa_id, bsuid, name FROM contacts WHERE workspace_id = $1 AND ({}) ORDER BY id",
            conds.join(" OR ")
        );
        let mut q = sqlx::query(&sql).bind(ws);
        for v in wa.iter().chain(bs.iter()) {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let list = known.entry(ws).or_default();
        for r in rows {
            list.push(KnownContact {
                id: r.try_get("id")?,
                wa_id: r.try_get("wa_id")?,
                bsuid: r.try_get("bsuid")?,
                name: r.try_get("name")?,
            });
        }
    }
    let mut contact_of: Vec<i64> = Vec::with_capacity(items.len());
    for it in &items {
        let list = known.entry(it.channel.workspace_id).or_default();
        // As `engine::contact_for`: the oldest contact with this BSUID or number.
        let found = list
            .iter()
            .filter(|c| {
                (it.bsuid.is_some() && c.bsuid.as_deref() == it.bsuid)
                    || (it.wa_id.is_some() && c.wa_id.as_deref() == it.wa_id)
            })
            .min_by_key(|c| c.id)
            .cloned();
        let current = match &found {
            Some(c) => {
                (c.wa_id.is_some() || it.wa_id.is_none())
                    && (c.bsuid.is_some() || it.bsuid.is_none())
                    && (it.name.is_none() || it.name == c.name.as_deref())
            }
            None => false,
        };
        if current {
            contact_of.push(found.expect("found").id);
            continue;
        }
        let id = engine::contact_for(conn, it.channel.workspace_id, it.wa_id, it.bsuid, it.name).await?;
        let merged = KnownContact {
            id,
            wa_id: found.as_ref().and_then(|c| c.wa_id.clone()).or(it.wa_id.map(str::to_owned)),
            bsuid: found.as_ref().and_then(|c| c.bsuid.clone()).or(it.bsuid.map(str::to_owned)),
            name: it.name.map(str::to_owned).or(found.as_ref().and_then(|c| c.name.clone())),
        };
        list.retain(|c| c.id != id);
        list.push(merged);
        contact_of.push(id);
    }

    // Conversations: one lookup, created one by one when new.
    let contact_ids: BTreeSet<i64> = contact_of.iter().copied().collect();
    let sql = format!(
        "SELECT id, contact_id, channel_id FROM conversations WHERE contact_id IN ({})",
        crate::db::placeholders(1, contact_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for c in &contact_ids {
        q = q.bind(*c);
    }
    let mut conversation: HashMap<(i64, i64), i64> = HashMap::new();
    for r in q.fetch_all(&mut *conn).await? {
        conversation.insert((r.try_get("contact_id")?, r.try_get("channel_id")?), r.try_get("id")?);
    }
    let mut conversation_of: Vec<i64> = Vec::with_capacity(items.len());
    for (it, contact) in items.iter().zip(&contact_of) {
        let id = match conversation.get(&(*contact, it.channel.id)) {
            Some(id) => *id,
            None => {
                let id = engine::conversation_for(conn, it.channel, *contact).await?;
                conversation.insert((*contact, it.channel.id), id);
                id
            }
        };
        conversation_of.push(id);
    }

    // Messages: multi-row inserts; a wamid already stored (or twice in the batch) is
    // inserted once, and only its first occurrence counts as new.
    let mut inserted: HashMap<String, i64> = HashMap::new();
    let order: Vec<usize> = (0..items.len()).collect();
    for chunk in order.chunks(50) {
        let sql = format!(
            "INSERT INTO messages (conversation_id, wamid, direction, author, kind, text, raw, status, sent_at, created_at) \
             VALUES {} ON CONFLICT (wamid) DO NOTHING RETURNING id, wamid",
            (0..chunk.len())
                .map(|r| {
                    let b = 1 + r * 7;
                    format!(
                        "(${}, ${}, 'inbound', 'customer', ${}, ${}, ${}, 'received', ${}, ${})",
                        b,
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql);
        for &k in chunk {
            let row = items[k].row;
            q = q
                .bind(conversation_of[k])
                .bind(&items[k].msg.id)
                .bind(&row.kind)
                .bind(&row.text)
                .bind(&row.raw)
                .bind(row.sent_at)
                .bind(now);
        }
        for r in q.fetch_all(&mut *conn).await? {
            inserted.insert(r.try_get("wamid")?, r.try_get("id")?);
        }
    }

    // What the new messages change: media to fetch, the conversations' last message,
    // the change log.
    let mut changes: Vec<(i64, &str, i64, i64)> = Vec::new();
    // conversation -> (workspace, newest sent_at, its preview)
    let mut latest: HashMap<i64, (i64, i64, String)> = HashMap::new();
    let mut conversation_order: Vec<i64> = Vec::new();
    for (k, it) in items.iter().enumerate() {
        let Some(message_id) = inserted.remove(&it.msg.id) else {
            tracing::debug!(wamid = %it.msg.id, "duplicate webhook delivery: already stored");
            continue;
        };
        let row = it.row;
        let conv = conversation_of[k];
        let ws = it.channel.workspace_id;
        if crate::media::MEDIA_KINDS.contains(&row.kind.as_str()) {
            if let Some(object) = it.msg.extra.get(&row.kind) {
                crate::media::enqueue(conn, message_id, object).await?;
                outcomes[it.delivery].media = true;
            }
        }
        if row.kind == "system" {
            engine::link_number_change(conn, contact_of[k], it.msg).await?;
        }
        outcomes[it.delivery].new_messages += 1;
        if matches!(row.kind.as_str(), "text" | "button" | "interactive") {
            if let Some(text) = &row.text {
                outcomes[it.delivery].texts.push((message_id, ws, text.clone()));
            }
        }
        outcomes[it.delivery].touched.insert(ws);
        changes.push((ws, "message", message_id, conv));
        match latest.get_mut(&conv) {
            Some(l) if l.1 > row.sent_at => {}
            Some(l) => *l = (ws, row.sent_at, row.preview()),
            None => {
                conversation_order.push(conv);
                latest.insert(conv, (ws, row.sent_at, row.preview()));
            }
        }
    }
    for chunk in conversation_order.chunks(100) {
        let values = (0..chunk.len())
            .map(|r| {
                let b = 2 + r * 3;
                format!("(CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT))", b, b + 1, b + 2)
            })
            .collect::<Vec<_>>()
            .join(", ");
        // Forward only, as `engine::touch_conversation`: a late message lands in place
        // without becoming the newest.
        let sql = format!(
            "UPDATE conversations SET \
               last_message_preview = CASE WHEN last_message_at IS NULL OR last_message_at <= v.column3 THEN v.column2 ELSE last_message_preview END, \
               last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at <= v.column3 THEN v.column3 ELSE last_message_at END, \
               last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at <= v.column3 THEN v.column3 ELSE last_inbound_at END, \
               updated_at = $1 \
             FROM (VALUES {values}) AS v WHERE conversations.id = v.column1"
        );
        let mut q = sqlx::query(&sql).bind(now);
        for conv in chunk {
            let (_, at, preview) = &latest[conv];
            q = q.bind(*conv).bind(preview).bind(*at);
        }
        q.execute(&mut *conn).await?;
    }
    for conv in &conversation_order {
        changes.push((latest[conv].0, "conversation", *conv, *conv));
    }
    if !changes.is_empty() {
        crate::db::lock_commit_order(conn).await?;
        for chunk in changes.chunks(200) {
            let sql = format!(
                "INSERT INTO changes (workspace_id, entity, entity_id, conversation_id, created_at) VALUES {}",
                value_rows(1, chunk.len(), 5)
            );
            let mut q = sqlx::query(&sql);
            for (ws, entity, id, conv) in chunk {
                q = q.bind(*ws).bind(*entity).bind(*id).bind(*conv).bind(now);
            }
            q.execute(&mut *conn).await?;
        }
    }
    Ok(outcomes)
}
