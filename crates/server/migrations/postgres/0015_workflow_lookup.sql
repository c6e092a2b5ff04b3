-- A conversation's latest workflow execution (its workflow status) without a scan.
CREATE INDEX workflow_executions_by_conversation ON workflow_executions (conversation_id, updated_at);
