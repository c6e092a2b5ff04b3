-- Project webhooks: subscriptions, the durable outbox, and the delivery log.
-- Keep in step with ../sqlite/0003_project_webhooks.sql.

CREATE TABLE webhook_subscriptions (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    url TEXT NOT NULL,
    -- The whsec_ signing secret, sealed with the server's secret key.
    secret TEXT NOT NULL,
    -- JSON array of event types ("*" and "conversation.*" allowed).
    events TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    -- 1 for an external automation's subscription (paused while people own a thread).
    automation BIGINT NOT NULL DEFAULT 0,
    description TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_outbox (
    id BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions(id),
    workspace_id BIGINT NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    conversation_id BIGINT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_status BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at);
CREATE INDEX webhook_outbox_order ON webhook_outbox (subscription_id, conversation_id, status, id);

CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES webhook_outbox(id),
    attempted_at BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
