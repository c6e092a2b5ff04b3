-- External automations, handoff settings, template/structured sends, workflow executions.
-- Keep in step with ../postgres/0004_automation.sql.

-- The automation (a webhook subscription with automation = 1) a token speaks for.
ALTER TABLE tokens ADD COLUMN automation_id INTEGER;
-- The workspace's automation: NULL means the built-in rule bot.
ALTER TABLE workspace_settings ADD COLUMN automation_id INTEGER;
-- Handoff settings (acknowledgement texts, business hours, queue timeout) as JSON.
ALTER TABLE workspace_settings ADD COLUMN handoff TEXT;
-- The exact Graph API body for non-text sends (templates), JSON.
ALTER TABLE messages ADD COLUMN payload TEXT;

CREATE TABLE workflow_executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    execution_id TEXT NOT NULL,
    workflow_id TEXT,
    conversation_id INTEGER,
    status TEXT NOT NULL,
    error TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (workspace_id, execution_id)
);

-- Leads moved in from other channels: matched by their shared lead id.
ALTER TABLE contacts ADD COLUMN lead_id TEXT;
CREATE UNIQUE INDEX contacts_lead ON contacts (workspace_id, lead_id);
