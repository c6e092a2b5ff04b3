-- The manager console. Keep in step with ../sqlite/0014_console.sql.

-- The board's "time since last reply" per agent.
CREATE INDEX messages_by_agent ON messages (agent_id, direction, sent_at) WHERE agent_id IS NOT NULL;
-- Conversations whose customer wrote in a period (the escalation rate's denominator).
CREATE INDEX messages_inbound_by_time ON messages (sent_at) WHERE direction = 'inbound';
-- Handoffs requested in a period.
CREATE INDEX handoffs_by_time ON handoffs (workspace_id, requested_at);
-- Breaches and near misses in a period.
CREATE INDEX sla_clocks_breached ON sla_clocks (workspace_id, breached_at);
CREATE INDEX sla_clocks_stopped ON sla_clocks (workspace_id, stopped_at);
-- A handoff's timeline.
CREATE INDEX audit_log_by_entity ON audit_log (workspace_id, entity, entity_id);
