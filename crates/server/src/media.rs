//! Inbound media: a media message is stored (and shown) at once with its file
//! `pending`; this worker then fetches the file (media id → URL → download with the
//! bearer token), checks it against the sha256 WhatsApp announced, stores it
//! content-addressed in a [`MediaStore`], and retries with backoff when Meta or the
//! network fails. `GET /v1/media/{message_id}` serves it to people who may see the
//! conversation.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::Response;
use base64::Engine as _;
use handoff_protocol::*;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{store, AppState};

/// Message types whose object carries a media `id`.
pub const MEDIA_KINDS: &[&str] = &["image", "video", "audio", "document", "sticker"];

/// Waits between attempts; after the last the file is `failed`.
const RETRY_SECS: &[i64] = &[1, 5, 30, 120, 600, 1800];

/// Where media files live. Content-addressed: the key is the hex SHA-256 of the bytes.
/// A filesystem store ships; an object store can implement the same trait.
pub trait MediaStore: Send + Sync {
    fn put(&self, hash: &str, bytes: &[u8]) -> std::io::Result<()>;
    fn get(&self, hash: &str) -> std::io::Result<Option<Vec<u8>>>;
}

/// `<data dir>/media/ab/abcdef...`.
pub struct FsMediaStore {
    root: PathBuf,
}

impl FsMediaStore {
    pub fn new(root: PathBuf) -> FsMediaStore {
        FsMediaStore { root }
    }

    fn path(&self, hash: &str) -> PathBuf {
        self.root.join(&hash[..2.min(hash.len())]).join(hash)
    }
}

impl MediaStore for FsMediaStore {
    fn put(&self, hash: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(hash);
        if path.exists() {
            return Ok(()); // same bytes, same name
        }
        std::fs::create_dir_all(path.parent().expect("a parent"))?;
        // Write then rename: a crash never leaves a half file under the final name.
        let tmp = path.with_extension("part");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, path)
    }

    fn get(&self, hash: &str) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(hash)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether `announced` (hex or base64, as Meta gives it) is the SHA-256 of `bytes`.
pub fn sha256_matches(announced: &str, bytes: &[u8]) -> bool {
    let digest = Sha256::digest(bytes);
    let announced = announced.trim();
    announced.eq_ignore_ascii_case(&hex::encode(digest))
        || base64::engine::general_purpose::STANDARD.decode(announced).is_ok_and(|d| d == digest.as_slice())
}

/// Records a media file to fetch for a freshly stored message (same transaction).
pub async fn enqueue(conn: &mut AnyConnection, message_id: i64, object: &serde_json::Value) -> AppResult<()> {
    let Some(media_id) =
        object.get("id").and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())))
    else {
        return Ok(());
    };
    let now = now_ms();
    sqlx::query(
        "INSERT INTO media (message_id, media_id, mime_type, expected_sha256, status, next_attempt_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $5) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(media_id)
    .bind(object.get("mime_type").and_then(|v| v.as_str()))
    .bind(object.get("sha256").and_then(|v| v.as_str()))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn run_fetcher(state: AppState) {
    loop {
        match fetch_due(&state).await {
            Ok(0) => {
                let _ = tokio::time::timeout(Duration::from_millis(500), state.media_wake.notified()).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "media fetcher failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn fetch_due(state: &AppState) -> AppResult<usize> {
    let rows = sqlx::query(
        "SELECT m.id, m.message_id, m.media_id, m.expected_sha256, m.attempts, c.workspace_id, msg.conversation_id \
         FROM media m JOIN messages msg ON msg.id = m.message_id JOIN conversations c ON c.id = msg.conversation_id \
         WHERE m.status = 'pending' AND m.next_attempt_at <= $1 ORDER BY m.id LIMIT 20",
    )
    .bind(now_ms())
    .fetch_all(&state.db.pool)
    .await?;
    for r in &rows {
        let (id, message_id, media_id): (i64, i64, String) =
            (r.try_get("id")?, r.try_get("message_id")?, r.try_get("media_id")?);
        let expected: Option<String> = r.try_get("expected_sha256")?;
        let attempts: i64 = r.try_get("attempts")?;
        let result = fetch_one(state, &media_id, expected.as_deref()).await;
        let now = now_ms();
        let mut tx = state.db.begin_write().await?;
        match result {
            Ok((hash, size, mime)) => {
                sqlx::query(
                    "UPDATE media SET status = 'ready', content_hash = $1, size = $2, mime_type = COALESCE(mime_type, $3), \
                     attempts = $4, error = NULL, updated_at = $5 WHERE id = $6",
                )
                .bind(&hash)
                .bind(size)
                .bind(mime)
                .bind(attempts + 1)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            Err(e) => {
                let next = RETRY_SECS.get(attempts as usize);
                tracing::warn!(media = %media_id, error = %e, retry = ?next, "media fetch failed");
                sqlx::query("UPDATE media SET status = $1, attempts = $2, next_attempt_at = $3, error = $4, updated_at = $5 WHERE id = $6")
                    .bind(if next.is_some() { "pending" } else { "failed" })
                    .bind(attempts + 1)
                    .bind(now + next.copied().unwrap_or(0) * 1000)
                    .bind(e)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let (ws, conv): (i64, i64) = (r.try_get("workspace_id")?, r.try_get("conversation_id")?);
        state.db.record_change(&mut tx, ws, "message", message_id, conv).await?;
        tx.commit().await?;
        state.changed(ws).await;
    }
    Ok(rows.len())
}

/// media id → URL → bytes, checked and stored. The error text is for people.
async fn fetch_one(
    state: &AppState,
    media_id: &str,
    expected: Option<&str>,
) -> Result<(String, i64, Option<String>), String> {
    let info = state.graph.media_info(media_id).await.map_err(|e| e.describe())?;
    let bytes = state.graph.download(&info.url).await.map_err(|e| e.describe())?;
    for announced in [expected, info.sha256.as_deref()].into_iter().flatten() {
        if !sha256_matches(announced, &bytes) {
            return Err("the file does not match its SHA-256: not stored".into());
        }
    }
    let hash = hex::encode(Sha256::digest(&bytes));
    let store = state.media_store.clone();
    let (h, b) = (hash.clone(), bytes.clone());
    tokio::task::spawn_blocking(move || store.put(&h, &b))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot store the file: {e}"))?;
    Ok((hash, bytes.len() as i64, info.mime_type))
}

/// `GET /v1/media/{message_id}`: the file, to people and bots who may see the thread.
pub async fn serve(State(state): State<AppState>, caller: Caller, Path(message_id): Path<i64>) -> AppResult<Response> {
    caller.require_scope("conversations:read")?;
    let mut conn = state.db.pool.acquire().await?;
    let msg = store::message(&mut conn, MessageId(message_id)).await?;
    let conv = store::conversation(&mut conn, msg.conversation_id).await?;
    let visible = match &caller {
        Caller::Api { workspace_id, .. } => conv.workspace_id == *workspace_id,
        Caller::Agent { agent, .. } => !store::visible_conversations(&mut conn, agent, &[conv.id.0]).await?.is_empty(),
    };
    if !visible {
        return Err(AppError::not_found("media"));
    }
    let row = sqlx::query("SELECT status, content_hash, mime_type, error FROM media WHERE message_id = $1")
        .bind(message_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found("media"))?;
    let status: String = row.try_get("status")?;
    let Some(hash) = row.try_get::<Option<String>, _>("content_hash")?.filter(|_| status == "ready") else {
        let why = row.try_get::<Option<String>, _>("error")?.unwrap_or_default();
        return Err(AppError::new(ErrorCode::NotFound, format!("the file is {status} {why}").trim().to_owned()));
    };
    let store = state.media_store.clone();
    let bytes = tokio::task::spawn_blocking(move || store.get(&hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?
        .ok_or_else(|| AppError::Internal("a ready media file is missing from the store".into()))?;
    let mime: Option<String> = row.try_get("mime_type")?;
    Response::builder()
        .header(header::CONTENT_TYPE, mime.unwrap_or_else(|| "application/octet-stream".into()))
        .header(header::CACHE_CONTROL, "private, max-age=31536000, immutable")
        .body(Body::from(bytes))
        .map_err(|e| AppError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_hashes_in_hex_or_base64() {
        let bytes = b"hello";
        let digest = Sha256::digest(bytes);
        assert!(sha256_matches(&hex::encode(digest), bytes));
        assert!(sha256_matches(&hex::encode(digest).to_uppercase(), bytes));
        assert!(sha256_matches(&base64::engine::general_purpose::STANDARD.encode(digest), bytes));
        assert!(!sha256_matches("4654+8g=", bytes));
        assert!(!sha256_matches(&hex::encode(digest), b"hellO"));
    }

    #[test]
    fn the_store_is_content_addressed_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsMediaStore::new(dir.path().to_path_buf());
        let hash = hex::encode(Sha256::digest(b"abc"));
        assert_eq!(store.get(&hash).unwrap(), None);
        store.put(&hash, b"abc").unwrap();
        store.put(&hash, b"abc").unwrap();
        assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&b"abc"[..]));
        assert!(dir.path().join(&hash[..2]).join(&hash).exists());
        assert!(!dir.path().join(&hash[..2]).join(format!("{hash}.part")).exists());
    }
}
