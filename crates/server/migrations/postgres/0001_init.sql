-- Handoff schema, PostgreSQL flavour. Keep in step with ../sqlite/0001_init.sql.
-- Times are unix milliseconds (BIGINT); enums are their stable text forms.

CREATE TABLE workspaces (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE channels (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    phone_number_id TEXT NOT NULL UNIQUE,
    display_phone_number TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE agents (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    availability TEXT NOT NULL DEFAULT 'offline',
    last_assigned_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id),
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    PRIMARY KEY (team_id, agent_id)
);

CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    agent_id BIGINT REFERENCES agents(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    wa_id TEXT,
    bsuid TEXT,
    name TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, wa_id),
    UNIQUE (workspace_id, bsuid)
);

CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    state TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal',
    assignee_id BIGINT REFERENCES agents(id),
    team_id BIGINT REFERENCES teams(id),
    active_handoff_id BIGINT,
    last_message_preview TEXT,
    last_message_at BIGINT,
    last_inbound_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (contact_id, channel_id)
);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    wamid TEXT UNIQUE,
    client_id TEXT UNIQUE,
    direction TEXT NOT NULL,
    author TEXT NOT NULL,
    agent_id BIGINT REFERENCES agents(id),
    kind TEXT NOT NULL,
    text TEXT,
    raw TEXT,
    status TEXT NOT NULL,
    error TEXT,
    sent_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    processed_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at, id);
CREATE INDEX messages_unprocessed ON messages (processed_at, direction);
CREATE INDEX messages_outbound_queue ON messages (status, direction);

CREATE TABLE handoffs (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    priority TEXT NOT NULL,
    summary TEXT,
    requested_by TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id),
    assignee_id BIGINT REFERENCES agents(id),
    requested_at BIGINT NOT NULL,
    assigned_at BIGINT,
    resolved_at BIGINT,
    resolution_note TEXT
);
CREATE INDEX handoffs_by_conversation ON handoffs (conversation_id);
CREATE INDEX handoffs_waiting ON handoffs (workspace_id, status);

-- The change log the sync API pulls by cursor: one row per changed entity.
CREATE TABLE changes (
    seq BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX changes_by_workspace ON changes (workspace_id, seq);

-- Every verified webhook body, raw, stored in the transaction that precedes the 200.
CREATE TABLE webhook_events (
    id BIGSERIAL PRIMARY KEY,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    parse_error TEXT
);
