-- The template registry, synced from the Graph API and kept current by webhooks.
-- Keep in step with ../sqlite/0006_templates.sql.
ALTER TABLE channels ADD COLUMN waba_id TEXT;

CREATE TABLE templates (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    meta_id TEXT,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    category TEXT,
    quality TEXT,
    components TEXT,
    rejection_reason TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name, language)
);
