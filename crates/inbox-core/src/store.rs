//! The local SQLite database: the agent's conversations, messages and handoffs as the
//! server last said, the sync cursor, and the outbox. The file is readable only by the
//! user.

use std::path::Path;
use std::str::FromStr;

use handoff_protocol::*;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone)]
pub struct LocalStore {
    pool: SqlitePool,
    /// One backfill of the search index at a time.
    indexing: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A server and account this app signed in to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SavedServer {
    pub server_url: String,
    pub email: String,
    pub workspace_name: String,
    pub agent_name: String,
    pub last_used_at: Millis,
    /// Its tokens are in the keyring: switching needs no password.
    pub signed_in: bool,
    /// The session this app runs now.
    pub current: bool,
}

/// What an outbox entry does on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    Reply,
    Note,
    Claim,
    Transfer,
    Resolve,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Reply => "reply",
            OutboxKind::Note => "note",
            OutboxKind::Claim => "claim",
            OutboxKind::Transfer => "transfer",
            OutboxKind::Resolve => "resolve",
        }
    }

    fn parse(s: &str) -> OutboxKind {
        match s {
            "note" => OutboxKind::Note,
            "claim" => OutboxKind::Claim,
            "transfer" => OutboxKind::Transfer,
            "resolve" => OutboxKind::Resolve,
            _ => OutboxKind::Reply,
        }
    }
}

/// A change made in the app, waiting to be applied on the server (or refused by it,
/// with the reason, the draft kept).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxEntry {
    pub local_id: i64,
    pub client_id: String,
    pub kind: OutboxKind,
    pub conversation_id: ConversationId,
    /// A reply's or note's text; a transfer's note; a resolve's note.
    pub text: String,
    /// A transfer's target (`{"agent_id": .., "team_id": ..}`).
    pub payload: Option<serde_json::Value>,
    /// The server id of the message this reply quotes.
    pub reply_to: Option<i64>,
    pub created_at: Millis,
    /// `pending` or `failed`.
    pub state: String,
    pub error: Option<ApiError>,
}

impl OutboxEntry {
    /// How the thread shows a reply or note: a message with a negative id.
    pub fn as_message(&self) -> Message {
        let note = self.kind == OutboxKind::Note;
        Message {
            id: MessageId(-self.local_id),
            conversation_id: self.conversation_id,
            wamid: None,
            client_id: Some(self.client_id.clone()),
            direction: if note { Direction::Note } else { Direction::Outbound },
            author: Author::Agent,
            agent_id: None,
            kind: "text".into(),
            text: Some(self.text.clone()),
            content: None,
            media: None,
            status: if self.state == "failed" { DeliveryStatus::Failed } else { DeliveryStatus::Queued },
            error: self.error.as_ref().map(|e| e.message.clone()),
            sent_at: self.created_at,
            created_at: self.created_at,
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> CoreResult<String> {
    serde_json::to_string(v).map_err(|e| CoreError::Internal(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> CoreResult<T> {
    serde_json::from_str(s).map_err(|e| CoreError::Internal(format!("corrupt local row: {e}")))
}

pub fn now_ms() -> Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

impl LocalStore {
    /// Opens (creating if needed) the database file at `path`, mode 0600 on Unix.
    pub async fn open(path: &Path) -> CoreResult<LocalStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CoreError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        restrict_file(path)?;
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(LocalStore { pool, indexing: Default::default() })
    }

    pub async fn meta(&self, key: &str) -> CoreResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = ?").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.get("value")))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> CoreResult<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn cursor(&self) -> CoreResult<i64> {
        Ok(self.meta("cursor").await?.and_then(|c| c.parse().ok()).unwrap_or(0))
    }

    /// How the next pull starts: a bootstrap snapshot page (`Some(after)`) on an empty
    /// copy or an unfinished bootstrap, else changes after the cursor (`None`).
    pub async fn next_snapshot(&self) -> CoreResult<Option<i64>> {
        if let Some(after) = self.meta("snapshot_after").await?.and_then(|a| a.parse().ok()) {
            return Ok(Some(after));
        }
        Ok((self.cursor().await? == 0).then_some(0))
    }

    /// Forgets everything (another account or server, or a logout).
    pub async fn clear(&self) -> CoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["meta", "conversations", "messages", "handoffs", "outbox", "notified", "notified_keys", "search"]
        {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Applies one pull: upserts rows and moves the cursor, in one transaction. Rows go
    /// in as one JSON array per table (`json_each`), a handful of statements per pull
    /// whatever its size: a bootstrap of 100,000 messages is not 100,000 round trips.
    pub async fn apply(&self, sync: &SyncResponse) -> CoreResult<()> {
        self.apply_with(sync, false).await
    }

    /// [`Self::apply`]; with `defer_search`, the messages' words are left for
    /// [`Self::index_pending`] (a bootstrap stores first and indexes after).
    pub async fn apply_with(&self, sync: &SyncResponse, defer_search: bool) -> CoreResult<()> {
        let conversations = to_json(&sync.conversations)?;
        let messages = to_json(&sync.messages)?;
        let handoffs = to_json(&sync.handoffs)?;
        let mut search = Vec::with_capacity(sync.conversations.len() + sync.messages.len());
        for c in &sync.conversations {
            let mut body = vec![c.contact.display_name()];
            body.extend(c.contact.wa_id.iter().cloned());
            body.extend(c.labels.iter().cloned());
            search.push(serde_json::json!({ "r": -c.id.0, "c": c.id.0, "m": 0, "b": body.join(" ") }));
        }
        for m in sync.messages.iter().filter(|_| !defer_search) {
            if let Some(text) = m.text.as_deref().filter(|t| !t.trim().is_empty()) {
                search.push(serde_json::json!({ "r": m.id.0, "c": m.conversation_id.0, "m": m.id.0, "b": text }));
            }
        }
        let search = to_json(&search)?;
        let mut tx = self.pool.begin().await?;
        if defer_search && !sync.messages.is_empty() {
            // Index from the start again: this page's messages may sort before where a
            // search had already indexed up to.
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ('search_pending', '1'), ('search_upto', '0') \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO conversations (id, sort_at, data) \
             SELECT json_extract(value, '$.id'), \
                    COALESCE(json_extract(value, '$.last_message_at'), json_extract(value, '$.created_at')), value \
             FROM json_each(?) WHERE true \
             ON CONFLICT (id) DO UPDATE SET sort_at = excluded.sort_at, data = excluded.data",
        )
        .bind(&conversations)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM search WHERE rowid IN (SELECT json_extract(value, '$.r') FROM json_each(?))")
            .bind(&search)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO search (rowid, conversation_id, message_id, body) \
             SELECT json_extract(value, '$.r'), json_extract(value, '$.c'), json_extract(value, '$.m'), json_extract(value, '$.b') \
             FROM json_each(?)",
        )
        .bind(&search)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, sent_at, client_id, data) \
             SELECT json_extract(value, '$.id'), json_extract(value, '$.conversation_id'), json_extract(value, '$.sent_at'), \
                    json_extract(value, '$.client_id'), value \
             FROM json_each(?) WHERE true \
             ON CONFLICT (id) DO UPDATE SET sent_at = excluded.sent_at, data = excluded.data",
        )
        .bind(&messages)
        .execute(&mut *tx)
        .await?;
        // The server has them: those outbox entries are done.
        sqlx::query(
            "DELETE FROM outbox WHERE client_id IN \
             (SELECT json_extract(value, '$.client_id') FROM json_each(?) WHERE json_extract(value, '$.client_id') IS NOT NULL)",
        )
        .bind(&messages)
        .execute(&mut *tx)
        .await?;
        for id in &sync.removed {
            // No longer ours to see (a teammate took it from the queue, ...).
            for table in ["messages", "handoffs", "search"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE conversation_id = ?"))
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM conversations WHERE id = ?").bind(id.0).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO handoffs (id, conversation_id, data) \
             SELECT json_extract(value, '$.id'), json_extract(value, '$.conversation_id'), value FROM json_each(?) WHERE true \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data",
        )
        .bind(&handoffs)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(sync.cursor.to_string())
        .execute(&mut *tx)
        .await?;
        // Where a bootstrap snapshot stopped, so a restart resumes it.
        match sync.snapshot_after {
            Some(after) => {
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ('snapshot_after', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(after.to_string())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM meta WHERE key = 'snapshot_after'").execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A message the server has, by the client id the app gave it.
    pub async fn message_by_client_id(&self, client_id: &str) -> CoreResult<Option<Message>> {
        let row = sqlx::query("SELECT data FROM messages WHERE client_id = ?")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| from_json(r.get::<&str, _>("data"))).transpose()
    }

    pub async fn conversation(&self, id: ConversationId) -> CoreResult<Option<Conversation>> {
        let row =
            sqlx::query("SELECT data FROM conversations WHERE id = ?").bind(id.0).fetch_optional(&self.pool).await?;
        row.map(|r| from_json(r.get::<&str, _>("data"))).transpose()
    }

    /// Remembers a sign-in for the server list.
    pub async fn remember_server(&self, s: &SavedServer) -> CoreResult<()> {
        sqlx::query(
            "INSERT INTO saved_servers (server_url, email, workspace_name, agent_name, last_used_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (server_url, email) DO UPDATE SET workspace_name = excluded.workspace_name, \
             agent_name = excluded.agent_name, last_used_at = excluded.last_used_at",
        )
        .bind(&s.server_url)
        .bind(&s.email)
        .bind(&s.workspace_name)
        .bind(&s.agent_name)
        .bind(s.last_used_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Saved sign-ins, most recently used first.
    pub async fn saved_servers(&self) -> CoreResult<Vec<SavedServer>> {
        let rows = sqlx::query(
            "SELECT server_url, email, workspace_name, agent_name, last_used_at FROM saved_servers ORDER BY last_used_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| SavedServer {
                server_url: r.get("server_url"),
                email: r.get("email"),
                workspace_name: r.get("workspace_name"),
                agent_name: r.get("agent_name"),
                last_used_at: r.get("last_used_at"),
                signed_in: false,
                current: false,
            })
            .collect())
    }

    pub async fn forget_server(&self, server_url: &str, email: &str) -> CoreResult<()> {
        sqlx::query("DELETE FROM saved_servers WHERE server_url = ? AND email = ?")
            .bind(server_url)
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many conversations and messages the local copy holds.
    pub async fn counts(&self) -> CoreResult<(i64, i64)> {
        let c: i64 = sqlx::query("SELECT COUNT(*) AS n FROM conversations").fetch_one(&self.pool).await?.get("n");
        let m: i64 = sqlx::query("SELECT COUNT(*) AS n FROM messages").fetch_one(&self.pool).await?.get("n");
        Ok((c, m))
    }

    /// How many conversations wait in the queue (the tray shows it).
    pub async fn waiting_count(&self) -> CoreResult<i64> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM conversations WHERE json_extract(data, '$.state') = 'waiting'")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.get("n"))
    }

    /// The inbox: newest activity first.
    pub async fn conversations(&self) -> CoreResult<Vec<Conversation>> {
        let rows =
            sqlx::query("SELECT data FROM conversations ORDER BY sort_at DESC, id DESC").fetch_all(&self.pool).await?;
        rows.iter().map(|r| from_json(r.get::<&str, _>("data"))).collect()
    }

    /// A thread in order, with the outbox's pending and failed replies last.
    pub async fn thread(&self, id: ConversationId) -> CoreResult<Option<ConversationDetail>> {
        let Some(conversation) = self.conversation(id).await? else { return Ok(None) };
        let rows = sqlx::query("SELECT data FROM messages WHERE conversation_id = ? ORDER BY sent_at, id")
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?;
        let mut messages: Vec<Message> =
            rows.iter().map(|r| from_json(r.get::<&str, _>("data"))).collect::<CoreResult<_>>()?;
        messages.extend(
            self.outbox(Some(id))
                .await?
                .iter()
                .filter(|e| matches!(e.kind, OutboxKind::Reply | OutboxKind::Note))
                .map(OutboxEntry::as_message),
        );
        let rows = sqlx::query("SELECT data FROM handoffs WHERE conversation_id = ? ORDER BY id")
            .bind(id.0)
            .fetch_all(&self.pool)
            .await?;
        let handoffs = rows.iter().map(|r| from_json(r.get::<&str, _>("data"))).collect::<CoreResult<_>>()?;
        Ok(Some(ConversationDetail { conversation, messages, handoffs }))
    }

    pub async fn queue_reply(
        &self,
        conversation_id: ConversationId,
        client_id: &str,
        text: &str,
        reply_to: Option<i64>,
    ) -> CoreResult<OutboxEntry> {
        self.queue(OutboxKind::Reply, conversation_id, client_id, text, reply_to, None).await
    }

    /// Writes a change to the outbox (before anything is sent: it survives a crash).
    pub async fn queue(
        &self,
        kind: OutboxKind,
        conversation_id: ConversationId,
        client_id: &str,
        text: &str,
        reply_to: Option<i64>,
        payload: Option<serde_json::Value>,
    ) -> CoreResult<OutboxEntry> {
        let created_at = now_ms();
        let row = sqlx::query(
            "INSERT INTO outbox (client_id, kind, conversation_id, text, reply_to, payload, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING local_id",
        )
        .bind(client_id)
        .bind(kind.as_str())
        .bind(conversation_id.0)
        .bind(text)
        .bind(reply_to)
        .bind(payload.as_ref().map(|p| p.to_string()))
        .bind(created_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxEntry {
            local_id: row.get("local_id"),
            client_id: client_id.to_owned(),
            kind,
            conversation_id,
            text: text.to_owned(),
            payload,
            reply_to,
            created_at,
            state: "pending".into(),
            error: None,
        })
    }

    /// The change is applied on the server (or the person gave it up).
    pub async fn outbox_done(&self, client_id: &str) -> CoreResult<()> {
        sqlx::query("DELETE FROM outbox WHERE client_id = ?").bind(client_id).execute(&self.pool).await?;
        Ok(())
    }

    /// Tries a refused change again (after the person fixed what was wrong).
    pub async fn outbox_retry(&self, client_id: &str) -> CoreResult<bool> {
        let n = sqlx::query(
            "UPDATE outbox SET state = 'pending', error_code = NULL, error_message = NULL, error_details = NULL \
             WHERE client_id = ? AND state = 'failed'",
        )
        .bind(client_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Outbox entries, oldest first (of one conversation, or all).
    pub async fn outbox(&self, conversation: Option<ConversationId>) -> CoreResult<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT local_id, client_id, kind, conversation_id, text, reply_to, payload, created_at, state, error_code, error_message, error_details FROM outbox \
             WHERE (? IS NULL OR conversation_id = ?) ORDER BY local_id",
        )
        .bind(conversation.map(|c| c.0))
        .bind(conversation.map(|c| c.0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let code: Option<String> = r.get("error_code");
                let error = code.map(|c| {
                    let code = serde_json::from_value(serde_json::Value::String(c)).unwrap_or(ErrorCode::Internal);
                    let mut e = ApiError::new(code, r.get::<Option<String>, _>("error_message").unwrap_or_default());
                    e.details = r.get::<Option<&str>, _>("error_details").and_then(|d| serde_json::from_str(d).ok());
                    e
                });
                Ok(OutboxEntry {
                    local_id: r.get("local_id"),
                    client_id: r.get("client_id"),
                    kind: OutboxKind::parse(r.get::<&str, _>("kind")),
                    conversation_id: ConversationId(r.get("conversation_id")),
                    text: r.get("text"),
                    payload: r.get::<Option<&str>, _>("payload").and_then(|p| serde_json::from_str(p).ok()),
                    reply_to: r.get("reply_to"),
                    created_at: r.get("created_at"),
                    state: r.get("state"),
                    error,
                })
            })
            .collect()
    }

    /// The server refused this reply: keep the draft, say why.
    pub async fn fail_reply(&self, local_id: i64, error: &ApiError) -> CoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'failed', error_code = ?, error_message = ?, error_details = ? WHERE local_id = ?",
        )
        .bind(error.code.as_str())
        .bind(&error.message)
        .bind(error.details.as_ref().map(|d| d.to_string()))
            .bind(local_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The server has the reply: store its row, drop the outbox entry.
    pub async fn reply_sent(&self, local_id: i64, message: &Message) -> CoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, sent_at, client_id, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(message.id.0)
        .bind(message.conversation_id.0)
        .bind(message.sent_at)
        .bind(&message.client_id)
        .bind(to_json(message)?)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM outbox WHERE local_id = ?").bind(local_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a handoff as announced; `true` the first time only.
    /// Indexes the words of messages a bootstrap stored without them, a chunk per
    /// transaction (so a pull or a reply can go in between), until none is left; survives
    /// a restart (the `search_pending` mark stays until the end). Returns how many.
    pub async fn index_pending(&self) -> CoreResult<usize> {
        let _one_at_a_time = self.indexing.lock().await;
        let mut done = 0;
        while self.meta("search_pending").await?.as_deref() == Some("1") {
            let mut tx = self.pool.begin().await?;
            let upto: i64 = sqlx::query_scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'search_upto'")
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or(0);
            // The chunk: the next 5,000 messages by id.
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(id) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT 5000)")
                    .bind(upto)
                    .fetch_one(&mut *tx)
                    .await?;
            let Some(last) = last else {
                sqlx::query("DELETE FROM meta WHERE key IN ('search_pending', 'search_upto')")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                break;
            };
            // Those a later pull already indexed keep their row.
            done += sqlx::query(
                "INSERT INTO search (rowid, conversation_id, message_id, body) \
                 SELECT id, conversation_id, id, json_extract(data, '$.text') FROM messages m \
                 WHERE id > ? AND id <= ? AND trim(COALESCE(json_extract(data, '$.text'), '')) <> '' \
                   AND NOT EXISTS (SELECT 1 FROM search s WHERE s.rowid = m.id)",
            )
            .bind(upto)
            .bind(last)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
            sqlx::query("UPDATE meta SET value = ? WHERE key = 'search_upto'")
                .bind(last.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Full-text search of the local copy: every word must match (as a prefix), best
    /// matches first, at most `limit`. Words a bootstrap has not indexed yet are indexed
    /// first, so a search never misses them.
    pub async fn search(&self, query: &str, limit: i64) -> CoreResult<Vec<SearchHit>> {
        self.index_pending().await?;
        let terms: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric() && c != '+')
            .filter(|t| !t.is_empty())
            .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
            .collect();
        if terms.is_empty() {
            return Ok(vec![]);
        }
        let rows = sqlx::query(
            "SELECT conversation_id, message_id, snippet(search, 2, '[', ']', '…', 10) AS snip FROM search \
             WHERE search MATCH ? ORDER BY rank LIMIT ?",
        )
        .bind(terms.join(" "))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let message_id: i64 = r.get("message_id");
                SearchHit {
                    conversation_id: ConversationId(r.get("conversation_id")),
                    message_id: (message_id != 0).then_some(MessageId(message_id)),
                    snippet: r.get("snip"),
                }
            })
            .collect())
    }

    /// Records that `key` was announced; `false` when it already was.
    pub async fn mark_notified_key(&self, key: &str) -> CoreResult<bool> {
        let r = sqlx::query("INSERT INTO notified_keys (key) VALUES (?) ON CONFLICT DO NOTHING")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// [`Self::mark_notified`] and [`Self::mark_notified_key`] for many at once, in one
    /// transaction (a bootstrap marks thousands): which of each were new.
    pub async fn mark_notified_many(
        &self,
        handoffs: &[HandoffId],
        keys: &[String],
    ) -> CoreResult<(Vec<bool>, Vec<bool>)> {
        let mut tx = self.pool.begin().await?;
        let mut new_handoffs = Vec::with_capacity(handoffs.len());
        for h in handoffs {
            let r = sqlx::query("INSERT INTO notified (handoff_id) VALUES (?) ON CONFLICT DO NOTHING")
                .bind(h.0)
                .execute(&mut *tx)
                .await?;
            new_handoffs.push(r.rows_affected() == 1);
        }
        let mut new_keys = Vec::with_capacity(keys.len());
        for k in keys {
            let r = sqlx::query("INSERT INTO notified_keys (key) VALUES (?) ON CONFLICT DO NOTHING")
                .bind(k)
                .execute(&mut *tx)
                .await?;
            new_keys.push(r.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok((new_handoffs, new_keys))
    }

    pub async fn mark_notified(&self, handoff_id: HandoffId) -> CoreResult<bool> {
        let r = sqlx::query("INSERT INTO notified (handoff_id) VALUES (?) ON CONFLICT DO NOTHING")
            .bind(handoff_id.0)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }
}

/// One search result: a conversation (by its contact or labels) or one of its messages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    pub conversation_id: ConversationId,
    pub message_id: Option<MessageId>,
    /// The matching text with the matches in `[brackets]`.
    pub snippet: String,
}

/// Replaces the search row of (conversation, message). Rows are keyed by rowid (the
/// message id, or minus the conversation id for its own row), so replacing one is a
/// lookup, not a scan.
#[cfg(unix)]
fn restrict_file(path: &Path) -> CoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = |e: std::io::Error| CoreError::Internal(format!("cannot secure {}: {e}", path.display()));
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)
}

#[cfg(not(unix))]
fn restrict_file(_path: &Path) -> CoreResult<()> {
    // On Windows the file lives in the user's own AppData, which only they can read.
    Ok(())
}
