import type {
  Contact,
  Conversation,
  ConversationDetail,
  Handoff,
  HandoffTrigger,
  Message,
  Priority,
  SlaClock,
  SlaKind,
} from './types';

/** name, else `+wa_id`, else the business-scoped user id. */
export function contactName(contact: Contact): string {
  if (contact.name && contact.name.trim()) return contact.name.trim();
  if (contact.wa_id) return contact.wa_id.startsWith('+') ? contact.wa_id : `+${contact.wa_id}`;
  if (contact.bsuid) return contact.bsuid;
  return `Contact #${contact.id}`;
}

/** A file size for people: "900 B", "12 KB", "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // One decimal below 10 ("1.2 MB"), whole numbers above ("12 MB"); never "1.0".
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${units[unit]}`;
}

/** Up to two initials from a name; '' when the name has no letters (a phone number). */
export function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((w) => Array.from(w).find((ch) => /\p{L}/u.test(ch)) ?? '')
    .filter(Boolean)
    .slice(0, 2)
    .join('')
    .toUpperCase();
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const dateYearFmt = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});
const dayFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
});
const dayYearFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Local wall-clock time, e.g. "14:05". */
export function formatTime(ms: number): string {
  return timeFmt.format(new Date(ms));
}

/** Local date and time, e.g. "12 Mar 2025, 14:05". */
export function formatDateTime(ms: number): string {
  return fullFmt.format(new Date(ms));
}

export function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function isSameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** Day separator label: "Today", "Yesterday", "Monday, 3 March". */
export function dayLabel(ms: number, now: number = Date.now()): string {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? dayFmt : dayYearFmt).format(new Date(ms));
}

/** Compact relative time for the list: "now", "5m", "3h", "Yesterday", "3 Mar". */
export function formatRelative(ms: number, now: number = Date.now()): string {
  const diff = now - ms;
  if (diff < 60_000) return 'now';
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)}m`;
  if (isSameDay(ms, now)) return `${Math.floor(diff / 3_600_000)}h`;
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / 86_400_000);
  if (days === 1) return 'Yesterday';
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? dateFmt : dateYearFmt).format(new Date(ms));
}

/**
 * Chronological order: by `sent_at`, then `id`. Local pending messages
 * (negative id) always go last, oldest first.
 */
export function sortMessages(messages: readonly Message[]): Message[] {
  return [...messages].sort((a, b) => {
    const aPending = a.id < 0;
    const bPending = b.id < 0;
    if (aPending !== bPending) return aPending ? 1 : -1;
    if (aPending && bPending) return a.created_at - b.created_at || b.id - a.id;
    return a.sent_at - b.sent_at || a.id - b.id;
  });
}

const KIND_LABELS: Record<string, string> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  voice: 'voice note',
  document: 'document',
  sticker: 'sticker',
  location: 'location',
  contacts: 'contact card',
  interactive: 'interactive message',
  button: 'button reply',
  reaction: 'reaction',
  template: 'template',
};

/** Body text, or a placeholder for message types we cannot show. */
export function messageBody(message: Message): { text: string; placeholder: boolean } {
  if (message.text !== null && message.text !== '') return { text: message.text, placeholder: false };
  const kind = KIND_LABELS[message.kind] ?? message.kind;
  return { text: `Unsupported message (${kind})`, placeholder: true };
}

/** The active handoff, else the most recently requested one. */
export function currentHandoff(detail: ConversationDetail): Handoff | null {
  const active = activeHandoff(detail);
  if (active) return active;
  let latest: Handoff | null = null;
  for (const h of detail.handoffs) {
    if (!latest || h.requested_at > latest.requested_at || (h.requested_at === latest.requested_at && h.id > latest.id)) {
      latest = h;
    }
  }
  return latest;
}

/** The conversation's open handoff (`active_handoff_id`), if any: no fallback to older ones. */
export function activeHandoff(detail: ConversationDetail): Handoff | null {
  const activeId = detail.conversation.active_handoff_id;
  if (activeId === null) return null;
  return detail.handoffs.find((h) => h.id === activeId) ?? null;
}

/** The note left with the transfer of the open handoff, if any (older data has none). */
export function transferNote(detail: ConversationDetail): string | null {
  const note = activeHandoff(detail)?.transfer_note;
  return typeof note === 'string' && note.trim() !== '' ? note.trim() : null;
}

/** The conversation's labels: missing in older data, blanks and repeats dropped. */
export function conversationLabels(conversation: Pick<Conversation, 'labels'>): string[] {
  const labels = Array.isArray(conversation.labels) ? conversation.labels : [];
  const out: string[] = [];
  for (const label of labels) {
    if (typeof label !== 'string') continue;
    const text = label.trim();
    if (text !== '' && !out.includes(text)) out.push(text);
  }
  return out;
}

/** Handoffs of the conversation other than `current`, newest first. */
export function earlierHandoffs(handoffs: readonly Handoff[], current: Handoff): Handoff[] {
  return handoffs
    .filter((h) => h.id !== current.id)
    .sort((a, b) => b.requested_at - a.requested_at || b.id - a.id);
}

const TRIGGER_LABELS: Record<Exclude<HandoffTrigger, 'api'>, string> = {
  customer_request: 'Customer asked for a person',
  keyword: 'Keyword / intent',
  low_confidence: 'Bot not confident',
  repeated_failure: 'Bot could not help',
  negative_sentiment: 'Customer upset',
  contact_rule: 'Contact rule',
  lead: 'Lead from another channel',
};

/** What caused a handoff, in words. Unknown (newer) trigger values are shown humanised. */
export function triggerLabel(handoff: Pick<Handoff, 'trigger' | 'requested_by'>): string {
  const trigger: string = handoff.trigger;
  if (trigger === 'api') return `Handed off by ${handoff.requested_by || 'the bot'}`;
  if (Object.prototype.hasOwnProperty.call(TRIGGER_LABELS, trigger)) return TRIGGER_LABELS[trigger as keyof typeof TRIGGER_LABELS];
  const words = trigger.replace(/[_-]+/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Unknown';
}

/** A finite number, or null for absent / null / NaN. */
export function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A 0..1 ratio as a whole percentage, e.g. 0.413 → "41%". */
export function formatPercent(ratio: number): string {
  return `${Math.round(Math.min(1, Math.max(0, ratio)) * 100)}%`;
}

export type SentimentWord = 'negative' | 'slightly negative' | 'neutral' | 'positive';

function round2(value: number): number {
  const r = Math.round(value * 100) / 100;
  return r === 0 ? 0 : r; // no "-0"
}

/** Words for a -1..1 sentiment score, judged on the two decimals that are shown. */
export function sentimentWord(score: number): SentimentWord {
  const s = round2(score);
  if (s <= -0.5) return 'negative';
  if (s < 0) return 'slightly negative';
  if (s === 0) return 'neutral';
  return 'positive';
}

/** A -1..1 score with its sign and two decimals: "-0.72", "0.00", "+0.40". */
export function formatSentiment(score: number): string {
  const s = round2(score);
  return `${s > 0 ? '+' : ''}${s.toFixed(2)}`;
}

/** Compact duration: "45s", "2m 5s", "1h 3m", "2d 4h". Negative counts as zero. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  if (minutes > 0) return seconds > 0 ? `${minutes}m ${seconds}s` : `${minutes}m`;
  return `${seconds}s`;
}

/**
 * A free-form context / attribute value for people: booleans Yes/No, arrays
 * joined with commas, objects as compact JSON, empty as "—".
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '—';
  if (Array.isArray(value)) {
    if (value.length === 0) return '—';
    return value.map((v) => (v !== null && typeof v === 'object' ? compactJson(v) : formatValue(v))).join(', ');
  }
  if (typeof value === 'object') return compactJson(value);
  return String(value);
}

function compactJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Key-value pairs of a free-form map; [] when absent or not an object. */
/** One line of a conversation held elsewhere (a lead's upstream transcript). */
export interface TranscriptLine {
  from: string;
  text: string;
}

/** A value that is a list of `{from, text}` lines, as lines; otherwise null. */
export function transcriptLines(value: unknown): TranscriptLine[] | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const lines: TranscriptLine[] = [];
  for (const item of value) {
    if (!item || typeof item !== 'object') return null;
    const { from, text } = item as { from?: unknown; text?: unknown };
    if (typeof text !== 'string') return null;
    lines.push({ from: typeof from === 'string' && from !== '' ? from : 'unknown', text });
  }
  return lines;
}

export function fieldEntries(map: Record<string, unknown> | null | undefined): [string, unknown][] {
  if (!map || typeof map !== 'object' || Array.isArray(map)) return [];
  return Object.entries(map);
}

export type TimelineStepKind = 'requested' | 'assigned' | 'first_response' | 'resolved' | 'returned';

export interface TimelineStep {
  step: TimelineStepKind;
  label: string;
  at: number;
  /** Time since the previous step that happened; null for the first (or out of order). */
  sincePrevious: number | null;
  /** What `sincePrevious` measured, e.g. "to assign". */
  gapLabel: string;
}

const TIMELINE: { step: TimelineStepKind; label: string; gapLabel: string; at: (h: Handoff) => number | null | undefined }[] = [
  { step: 'requested', label: 'Requested', gapLabel: '', at: (h) => h.requested_at },
  { step: 'assigned', label: 'Assigned', gapLabel: 'to assign', at: (h) => h.assigned_at },
  { step: 'first_response', label: 'First response', gapLabel: 'to first response', at: (h) => h.first_response_at },
  { step: 'resolved', label: 'Resolved', gapLabel: 'to resolve', at: (h) => h.resolved_at },
  { step: 'returned', label: 'Returned to automation', gapLabel: 'to return to automation', at: (h) => h.returned_at },
];

/** The steps of a handoff that happened, in order, each with the time since the one before. */
export function handoffTimeline(handoff: Handoff): TimelineStep[] {
  const out: TimelineStep[] = [];
  let previous: number | null = null;
  for (const t of TIMELINE) {
    const at = finiteOrNull(t.at(handoff));
    if (at === null) continue;
    const since = previous !== null && at >= previous ? at - previous : null;
    out.push({ step: t.step, label: t.label, at, sincePrevious: since, gapLabel: t.gapLabel });
    previous = at;
  }
  return out;
}

export function priorityLabel(priority: Priority): string {
  return priority.charAt(0).toUpperCase() + priority.slice(1);
}

export function isHighPriority(priority: Priority): boolean {
  return priority === 'high' || priority === 'urgent';
}

/** How long WhatsApp allows free-form replies after the customer's last message. */
export const REPLY_WINDOW_MS = 24 * 3_600_000;

/**
 * Time left to reply freely, in ms (at most 24 h); null when the window is
 * closed or the customer never wrote (`lastInboundAt` null or invalid).
 */
export function replyWindowRemaining(lastInboundAt: number | null | undefined, now: number): number | null {
  const last = finiteOrNull(lastInboundAt);
  if (last === null) return null;
  const remaining = Math.min(REPLY_WINDOW_MS, last + REPLY_WINDOW_MS - now);
  return remaining > 0 ? remaining : null;
}

/** Time left as hours and minutes, rounded up: "3h 12m", "45m", "2h". */
export function formatCountdown(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest}m`;
  return rest > 0 ? `${hours}h ${rest}m` : `${hours}h`;
}

/**
 * A short SLA countdown, to the second near the end (the board ticks every second):
 * "19s" under a minute, "4m 05s" under ten minutes, then as `formatCountdown` ("12m",
 * "1h 5m"). Rounded up to the second, never below "1s".
 */
export function formatCountdownPrecise(ms: number): string {
  const seconds = Math.max(1, Math.ceil((Number.isFinite(ms) ? ms : 0) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 10 * 60) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return formatCountdown(seconds * 1000);
}

/** Characters as WhatsApp counts them (Unicode code points). */
export function charCount(text: string): number {
  return Array.from(text).length;
}

/**
 * The SLA clock of a handoff to show: the first running (not stopped) response clock
 * (first or next response), else the running resolution clock; null when none runs.
 */
export function runningSlaClock(handoff: Pick<Handoff, 'sla'>): SlaClock | null {
  const clocks = Array.isArray(handoff.sla) ? handoff.sla : [];
  const running = (c: SlaClock) => c.stopped_at === null || c.stopped_at === undefined;
  return (
    clocks.find((c) => (c.kind === 'first_response' || c.kind === 'next_response') && running(c)) ??
    clocks.find((c) => c.kind === 'resolution' && running(c)) ??
    null
  );
}

const SLA_LABELS: Record<SlaKind, string> = {
  first_response: 'First response',
  next_response: 'Next response',
  resolution: 'Resolution',
};

/** A stopwatch reading of whole seconds: "0:07", "4:12", "1:02:03", "2d 3h". */
export function formatClock(totalSeconds: number): string {
  const total = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${ss}`;
  return `${minutes}:${ss}`;
}

export type SlaTone = 'ok' | 'warn' | 'overdue' | 'paused';

/** What the thread header says about an SLA clock at `now`. */
export interface SlaView {
  kind: SlaKind;
  tone: SlaTone;
  /** "First response due in 4:12", "Resolution overdue by 1:05", "Next response paused". */
  text: string;
}

/** How a running SLA clock reads at `now`; null when it has no deadline. */
export function slaView(clock: SlaClock, now: number): SlaView | null {
  const label = SLA_LABELS[clock.kind] ?? 'SLA';
  if (clock.paused) return { kind: clock.kind, tone: 'paused', text: `${label} paused` };
  const due = finiteOrNull(clock.due_at);
  if (due === null) return null;
  const left = due - now;
  if (left > 0) {
    const warnAt = finiteOrNull(clock.warn_at);
    const tone: SlaTone = warnAt !== null && now >= warnAt ? 'warn' : 'ok';
    // Counting down: a second is shown until it has fully passed.
    return { kind: clock.kind, tone, text: `${label} due in ${formatClock(Math.ceil(left / 1000))}` };
  }
  return { kind: clock.kind, tone: 'overdue', text: `${label} overdue by ${formatClock(Math.floor(-left / 1000))}` };
}

/** A 0..1 ratio as a percentage with `digits` decimals (trailing zeros dropped): "12.5%", "8%"; "—" when not a number. */
export function formatRate(ratio: number | null | undefined, digits = 1): string {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '—';
  const factor = 10 ** Math.max(0, Math.floor(digits));
  const value = Math.round(ratio * 100 * factor) / factor;
  return `${value === 0 ? 0 : value}%`;
}

/** `formatDuration`, or "—" when there is no duration (no data). */
export function formatDurationOrDash(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? formatDuration(ms) : '—';
}

/** How long ago, for people: "just now", "5m ago", "2h 10m ago", "3d ago"; "never" for none. */
export function formatAgo(at: number | null | undefined, now: number = Date.now()): string {
  if (typeof at !== 'number' || !Number.isFinite(at)) return 'never';
  const diff = now - at;
  if (diff < 60_000) return 'just now';
  const minutes = Math.floor(diff / 60_000);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 > 0 ? `${hours}h ${minutes % 60}m ago` : `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

/** A trigger in a few words for tables and charts (no requester): `api` is "API / workflow". */
export function triggerName(trigger: string): string {
  if (trigger === 'api') return 'API / workflow';
  return triggerLabel({ trigger: trigger as HandoffTrigger, requested_by: '' });
}

/**
 * The label of histogram bin `index` of `bins` (each bin holds durations above the
 * previous bound, up to its own `le_ms`): "≤ 1m", "1m–5m", "> 1h" (the last, unbounded).
 */
export function histogramBinLabel(bins: readonly { le_ms: number | null }[], index: number): string {
  const bin = bins[index];
  if (!bin) return '';
  let previous: number | null = null;
  for (let i = index - 1; i >= 0; i--) {
    const le = bins[i].le_ms;
    if (typeof le === 'number') {
      previous = le;
      break;
    }
  }
  if (bin.le_ms === null || !Number.isFinite(bin.le_ms)) {
    return previous === null ? 'All' : `> ${formatDuration(previous)}`;
  }
  if (previous === null) return `≤ ${formatDuration(bin.le_ms)}`;
  return `${formatDuration(previous)}–${formatDuration(bin.le_ms)}`;
}
