-- The handoff as a first-class record, triggers and their settings.
-- Keep in step with ../postgres/0002_handoff_engine.sql.

ALTER TABLE handoffs ADD COLUMN trigger_detail TEXT;
ALTER TABLE handoffs ADD COLUMN confidence REAL;
ALTER TABLE handoffs ADD COLUMN sentiment REAL;
ALTER TABLE handoffs ADD COLUMN workflow_id TEXT;
ALTER TABLE handoffs ADD COLUMN execution_id TEXT;
ALTER TABLE handoffs ADD COLUMN node_id TEXT;
ALTER TABLE handoffs ADD COLUMN requested_skill TEXT;
ALTER TABLE handoffs ADD COLUMN context TEXT;
ALTER TABLE handoffs ADD COLUMN first_response_at INTEGER;
ALTER TABLE handoffs ADD COLUMN returned_at INTEGER;

-- Contact attributes (JSON object): VIP flags, CRM fields; read by contact rules.
ALTER TABLE contacts ADD COLUMN attributes TEXT;
-- The bot's fallback answers in a row in this conversation (repeated-failure trigger).
ALTER TABLE conversations ADD COLUMN bot_fallbacks INTEGER NOT NULL DEFAULT 0;

-- Per-workspace settings as JSON documents.
CREATE TABLE workspace_settings (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id),
    triggers TEXT,
    updated_at INTEGER NOT NULL
);
