-- Handoff Inbox's local copy of the agent's threads. Rows keep the server's JSON as
-- `data`, with the columns needed for ordering and lookups beside it.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    sort_at INTEGER NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    client_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at, id);

CREATE TABLE handoffs (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX handoffs_by_conversation ON handoffs (conversation_id);

-- Replies written here first, sent when the server can be reached, applied once by
-- their client_id.
CREATE TABLE outbox (
    local_id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    conversation_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    error_code TEXT,
    error_message TEXT
);

-- Handoffs already announced by a desktop notification (no repeats, no flood).
CREATE TABLE notified (
    handoff_id INTEGER PRIMARY KEY
);
