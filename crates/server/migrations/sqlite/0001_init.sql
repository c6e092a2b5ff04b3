-- Handoff schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql.
-- Times are unix milliseconds (INTEGER); enums are their stable text forms.

CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    phone_number_id TEXT NOT NULL UNIQUE,
    display_phone_number TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    availability TEXT NOT NULL DEFAULT 'offline',
    last_assigned_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    PRIMARY KEY (team_id, agent_id)
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    agent_id INTEGER REFERENCES agents(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    wa_id TEXT,
    bsuid TEXT,
    name TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (workspace_id, wa_id),
    UNIQUE (workspace_id, bsuid)
);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    state TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal',
    assignee_id INTEGER REFERENCES agents(id),
    team_id INTEGER REFERENCES teams(id),
    active_handoff_id INTEGER,
    last_message_preview TEXT,
    last_message_at INTEGER,
    last_inbound_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (contact_id, channel_id)
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    wamid TEXT UNIQUE,
    client_id TEXT UNIQUE,
    direction TEXT NOT NULL,
    author TEXT NOT NULL,
    agent_id INTEGER REFERENCES agents(id),
    kind TEXT NOT NULL,
    text TEXT,
    raw TEXT,
    status TEXT NOT NULL,
    error TEXT,
    sent_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    processed_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at, id);
CREATE INDEX messages_unprocessed ON messages (processed_at, direction);
CREATE INDEX messages_outbound_queue ON messages (status, direction);

CREATE TABLE handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    priority TEXT NOT NULL,
    summary TEXT,
    requested_by TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    assignee_id INTEGER REFERENCES agents(id),
    requested_at INTEGER NOT NULL,
    assigned_at INTEGER,
    resolved_at INTEGER,
    resolution_note TEXT
);
CREATE INDEX handoffs_by_conversation ON handoffs (conversation_id);
CREATE INDEX handoffs_waiting ON handoffs (workspace_id, status);

-- The change log the sync API pulls by cursor: one row per changed entity.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX changes_by_workspace ON changes (workspace_id, seq);

-- Every verified webhook body, raw, stored in the transaction that precedes the 200.
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    parse_error TEXT
);
