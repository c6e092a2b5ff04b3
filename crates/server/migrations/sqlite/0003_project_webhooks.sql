-- Project webhooks: subscriptions, the durable outbox, and the delivery log.
-- Keep in step with ../postgres/0003_project_webhooks.sql.

CREATE TABLE webhook_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    url TEXT NOT NULL,
    -- The whsec_ signing secret, sealed with the server's secret key.
    secret TEXT NOT NULL,
    -- JSON array of event types ("*" and "conversation.*" allowed).
    events TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    -- 1 for an external automation's subscription (paused while people own a thread).
    automation INTEGER NOT NULL DEFAULT 0,
    description TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions(id),
    workspace_id INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    conversation_id INTEGER,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at);
CREATE INDEX webhook_outbox_order ON webhook_outbox (subscription_id, conversation_id, status, id);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_outbox(id),
    attempted_at INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
