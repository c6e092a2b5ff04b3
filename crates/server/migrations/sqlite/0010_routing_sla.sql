-- Routing, assignment and SLA clocks. Keep in step with ../postgres/0010_routing_sla.sql.

-- How much an agent takes on, what they know, and whether their app is there.
ALTER TABLE agents ADD COLUMN capacity INTEGER NOT NULL DEFAULT 5;
-- JSON array of skill names.
ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
-- Last sign of the desktop app (event stream, heartbeat); offline after a grace period.
ALTER TABLE agents ADD COLUMN last_seen_at INTEGER;
-- Last sign of the person at the keyboard; away after the idle time.
ALTER TABLE agents ADD COLUMN last_active_at INTEGER;
-- 1 when the server (not the person) set "away" for idleness: activity brings them back.
ALTER TABLE agents ADD COLUMN auto_away INTEGER NOT NULL DEFAULT 0;

-- How a team hands out its queue.
-- round_robin | least_loaded
ALTER TABLE teams ADD COLUMN strategy TEXT NOT NULL DEFAULT 'round_robin';
-- A returning customer goes to their previous agent when that agent can take them.
ALTER TABLE teams ADD COLUMN sticky INTEGER NOT NULL DEFAULT 1;
-- Who first-response breaches escalate to.
ALTER TABLE teams ADD COLUMN manager_id INTEGER REFERENCES agents(id);
-- JSON business hours and holidays (NULL: always open); SLA clocks follow them.
ALTER TABLE teams ADD COLUMN business_hours TEXT;

-- Shown to whoever receives a transferred conversation, before anything else.
ALTER TABLE handoffs ADD COLUMN transfer_note TEXT;
-- The routing rule that chose the team, when one did.
ALTER TABLE handoffs ADD COLUMN routed_by TEXT;

-- Rules that map a handoff to a team, tried in position order; the first match wins.
CREATE TABLE routing_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    -- JSON: {"triggers": [...], "skills": [...], "priorities": [...], "phone_number_ids": [...],
    --        "lead_sources": [...], "contact_attributes": {"key": value}}; all given must match.
    conditions TEXT NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    -- Raise (or set) the handoff's priority when the rule matches.
    priority TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX routing_rules_by_workspace ON routing_rules (workspace_id, position);

-- SLA clocks: first response, next response and resolution, per handoff. Wall-clock
-- deadlines are computed through the team's business hours; a paused clock keeps the
-- business time it had left. State lives here, so clocks survive restarts.
CREATE TABLE sla_clocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    handoff_id INTEGER NOT NULL REFERENCES handoffs(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    -- first_response | next_response | resolution
    kind TEXT NOT NULL,
    target_ms INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    warn_at INTEGER,
    due_at INTEGER,
    -- While paused (waiting on the customer): business time left to warning and breach.
    paused_at INTEGER,
    warn_left_ms INTEGER,
    due_left_ms INTEGER,
    warned_at INTEGER,
    breached_at INTEGER,
    stopped_at INTEGER
);
CREATE INDEX sla_clocks_running ON sla_clocks (stopped_at, due_at);
CREATE INDEX sla_clocks_by_handoff ON sla_clocks (handoff_id, kind);

ALTER TABLE workspace_settings ADD COLUMN sla TEXT;

-- Who did what: handoffs, assignments, overrides, transfers, role and rule changes.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    -- agent:<id> or api:<token name> or system
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX audit_log_by_workspace ON audit_log (workspace_id, id);
