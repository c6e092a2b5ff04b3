// The manager console's tables: one column list per table, used both to show it and to
// export it as CSV (raw values in `value`, what people read in `display`).

import { csvTime, type CsvColumn } from './csv';
import { formatDateTime, formatDuration, formatDurationOrDash, formatRate, histogramBinLabel, priorityLabel, triggerName } from './format';
import { isAtRisk, isBreached, loadRatio } from './board';
import { slaKindLabel } from './listView';
import type { AgentLoad, BoardEntry, BreachGroup, BreachItem, Distribution, HistogramBin, RatePoint, TeamLoad, TriggerCount } from './types';

export interface TableColumn<T> extends CsvColumn<T> {
  /** What the table shows (default: `value`). */
  display?: (row: T) => string;
  /** Right-aligned, tabular figures. */
  numeric?: boolean;
}

/** What a cell shows. */
export function cellText<T>(column: TableColumn<T>, row: T): string {
  if (column.display) return column.display(row);
  const v = column.value(row);
  return v === null || v === undefined ? '' : String(v);
}

/** Names for ids: agents and teams. */
export interface NameLookup {
  agent(id: number | null): string;
  team(id: number | null): string;
}

/** A lookup over id → name maps; unknown ids read "Agent #8" / "Team #3", none "Unassigned" / "No team". */
export function nameLookup(agents: ReadonlyMap<number, string>, teams: ReadonlyMap<number, string>): NameLookup {
  return {
    agent: (id) => (id === null ? 'Unassigned' : (agents.get(id) ?? `Agent #${id}`)),
    team: (id) => (id === null ? 'No team' : (teams.get(id) ?? `Team #${id}`)),
  };
}

export function outcomeLabel(outcome: string): string {
  if (outcome === 'breached') return 'Breached';
  if (outcome === 'near_miss') return 'Near miss';
  const words = outcome.replace(/[_-]+/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Unknown';
}

// ---- board ---------------------------------------------------------------------------

export function queueColumns(names: NameLookup, now: number): TableColumn<BoardEntry>[] {
  return [
    { header: 'Conversation', value: (e) => e.conversation_id, numeric: true },
    { header: 'Contact', value: (e) => e.contact_name },
    { header: 'Status', value: (e) => e.status },
    { header: 'Priority', value: (e) => e.priority },
    { header: 'Trigger', value: (e) => triggerName(e.trigger) },
    { header: 'Reason', value: (e) => e.reason },
    { header: 'Team', value: (e) => names.team(e.team_id) },
    { header: 'Assignee', value: (e) => names.agent(e.assignee_id) },
    { header: 'Requested at', value: (e) => csvTime(e.requested_at) },
    { header: 'Waiting (s)', value: (e) => Math.max(0, Math.floor((now - e.requested_at) / 1000)), numeric: true },
    { header: 'SLA', value: (e) => (e.sla_kind ? slaKindLabel(e.sla_kind) : '') },
    { header: 'SLA due at', value: (e) => csvTime(e.sla_due_at) },
    { header: 'At risk', value: (e) => isAtRisk(e, now) },
    { header: 'Breached', value: (e) => isBreached(e, now) },
  ];
}

export function agentColumns(): TableColumn<AgentLoad>[] {
  return [
    { header: 'Agent', value: (a) => a.name },
    { header: 'Role', value: (a) => a.role },
    { header: 'Availability', value: (a) => a.availability },
    { header: 'Open', value: (a) => a.open_conversations, numeric: true },
    { header: 'Capacity', value: (a) => a.capacity, numeric: true },
    { header: 'Load', value: (a) => (Number.isFinite(loadRatio(a)) ? Math.round(loadRatio(a) * 100) / 100 : ''), numeric: true },
    { header: 'At risk', value: (a) => a.at_risk, numeric: true },
    { header: 'Last reply at', value: (a) => csvTime(a.last_reply_at) },
  ];
}

export function teamColumns(): TableColumn<TeamLoad>[] {
  return [
    { header: 'Team', value: (t) => t.name },
    { header: 'Waiting', value: (t) => t.waiting, numeric: true },
    { header: 'Online agents', value: (t) => t.online_agents, numeric: true },
    { header: 'Oldest waiting since', value: (t) => csvTime(t.oldest_waiting_at) },
  ];
}

// ---- metrics ------------------------------------------------------------------------------

export function rateColumns(label: (start: number) => string): TableColumn<RatePoint>[] {
  return [
    { header: 'Start', value: (p) => csvTime(p.start), display: (p) => label(p.start) },
    { header: 'Conversations', value: (p) => p.conversations, numeric: true },
    { header: 'Handoffs', value: (p) => p.handoffs, numeric: true },
    { header: 'Rate', value: (p) => Math.round(p.rate * 10_000) / 10_000, display: (p) => formatRate(p.rate), numeric: true },
  ];
}

export interface HistogramRow {
  label: string;
  le_ms: number | null;
  count: number;
}

export function histogramRows(dist: Distribution): HistogramRow[] {
  return dist.histogram.map((b: HistogramBin, i) => ({ label: histogramBinLabel(dist.histogram, i), le_ms: b.le_ms, count: b.count }));
}

export function histogramColumns(): TableColumn<HistogramRow>[] {
  return [
    { header: 'Duration', value: (r) => r.label },
    { header: 'Up to (ms)', value: (r) => r.le_ms, display: (r) => (r.le_ms === null ? 'No limit' : formatDuration(r.le_ms)), numeric: true },
    { header: 'Handoffs', value: (r) => r.count, numeric: true },
  ];
}

export function triggerColumns(): TableColumn<TriggerCount>[] {
  return [
    { header: 'Trigger', value: (t) => triggerName(t.trigger) },
    { header: 'Handoffs', value: (t) => t.handoffs, numeric: true },
  ];
}

/** Two columns: a label and a count (`count` picks it). */
export function countColumns<T extends { label: string }>(
  labelHeader: string,
  countHeader: string,
  count: (row: T) => number,
): TableColumn<T>[] {
  return [
    { header: labelHeader, value: (r) => r.label },
    { header: countHeader, value: count, numeric: true },
  ];
}

export function breachColumns(names: NameLookup): TableColumn<BreachItem>[] {
  return [
    { header: 'Kind', value: (b) => slaKindLabel(b.kind) },
    { header: 'Outcome', value: (b) => outcomeLabel(b.outcome) },
    { header: 'Contact', value: (b) => b.contact_name },
    { header: 'Team', value: (b) => names.team(b.team_id) },
    { header: 'Agent', value: (b) => names.agent(b.agent_id) },
    { header: 'Priority', value: (b) => b.priority, display: (b) => priorityLabel(b.priority) },
    { header: 'Trigger', value: (b) => triggerName(b.trigger) },
    { header: 'At', value: (b) => csvTime(b.at), display: (b) => formatDateTime(b.at) },
    { header: 'Target (ms)', value: (b) => b.target_ms, display: (b) => formatDurationOrDash(b.target_ms), numeric: true },
    { header: 'Conversation', value: (b) => b.conversation_id, numeric: true },
    { header: 'Handoff', value: (b) => b.handoff_id, numeric: true },
  ];
}

export function groupColumns(header: string): TableColumn<BreachGroup>[] {
  return [
    { header, value: (g) => g.label },
    { header: 'Breaches', value: (g) => g.breaches, numeric: true },
    { header: 'Near misses', value: (g) => g.near_misses, numeric: true },
  ];
}
