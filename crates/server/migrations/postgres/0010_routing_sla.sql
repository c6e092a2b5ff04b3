-- Routing, assignment and SLA clocks. Keep in step with ../sqlite/0010_routing_sla.sql.

-- How much an agent takes on, what they know, and whether their app is there.
ALTER TABLE agents ADD COLUMN capacity BIGINT NOT NULL DEFAULT 5;
-- JSON array of skill names.
ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
-- Last sign of the desktop app (event stream, heartbeat); offline after a grace period.
ALTER TABLE agents ADD COLUMN last_seen_at BIGINT;
-- Last sign of the person at the keyboard; away after the idle time.
ALTER TABLE agents ADD COLUMN last_active_at BIGINT;
-- 1 when the server (not the person) set "away" for idleness: activity brings them back.
ALTER TABLE agents ADD COLUMN auto_away BIGINT NOT NULL DEFAULT 0;

-- How a team hands out its queue.
-- round_robin | least_loaded
ALTER TABLE teams ADD COLUMN strategy TEXT NOT NULL DEFAULT 'round_robin';
-- A returning customer goes to their previous agent when that agent can take them.
ALTER TABLE teams ADD COLUMN sticky BIGINT NOT NULL DEFAULT 1;
-- Who first-response breaches escalate to.
ALTER TABLE teams ADD COLUMN manager_id BIGINT REFERENCES agents(id);
-- JSON business hours and holidays (NULL: always open); SLA clocks follow them.
ALTER TABLE teams ADD COLUMN business_hours TEXT;

-- Shown to whoever receives a transferred conversation, before anything else.
ALTER TABLE handoffs ADD COLUMN transfer_note TEXT;
-- The routing rule that chose the team, when one did.
ALTER TABLE handoffs ADD COLUMN routed_by TEXT;

-- Rules that map a handoff to a team, tried in position order; the first match wins.
CREATE TABLE routing_rules (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    -- JSON: {"triggers": [...], "skills": [...], "priorities": [...], "phone_number_ids": [...],
    --        "lead_sources": [...], "contact_attributes": {"key": value}}; all given must match.
    conditions TEXT NOT NULL,
    team_id BIGINT NOT NULL REFERENCES teams(id),
    -- Raise (or set) the handoff's priority when the rule matches.
    priority TEXT,
    enabled BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX routing_rules_by_workspace ON routing_rules (workspace_id, position);

-- SLA clocks: first response, next response and resolution, per handoff. Wall-clock
-- deadlines are computed through the team's business hours; a paused clock keeps the
-- business time it had left. State lives here, so clocks survive restarts.
CREATE TABLE sla_clocks (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    handoff_id BIGINT NOT NULL REFERENCES handoffs(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    -- first_response | next_response | resolution
    kind TEXT NOT NULL,
    target_ms BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    warn_at BIGINT,
    due_at BIGINT,
    -- While paused (waiting on the customer): business time left to warning and breach.
    paused_at BIGINT,
    warn_left_ms BIGINT,
    due_left_ms BIGINT,
    warned_at BIGINT,
    breached_at BIGINT,
    stopped_at BIGINT
);
CREATE INDEX sla_clocks_running ON sla_clocks (stopped_at, due_at);
CREATE INDEX sla_clocks_by_handoff ON sla_clocks (handoff_id, kind);

ALTER TABLE workspace_settings ADD COLUMN sla TEXT;

-- Who did what: handoffs, assignments, overrides, transfers, role and rule changes.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    -- agent:<id> or api:<token name> or system
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_log_by_workspace ON audit_log (workspace_id, id);
