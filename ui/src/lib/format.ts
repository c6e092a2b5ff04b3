import type { Contact, ConversationDetail, Handoff, Message, Priority } from './types';

/** name, else `+wa_id`, else the business-scoped user id. */
export function contactName(contact: Contact): string {
  if (contact.name && contact.name.trim()) return contact.name.trim();
  if (contact.wa_id) return contact.wa_id.startsWith('+') ? contact.wa_id : `+${contact.wa_id}`;
  if (contact.bsuid) return contact.bsuid;
  return `Contact #${contact.id}`;
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
  const activeId = detail.conversation.active_handoff_id;
  if (activeId !== null) {
    const active = detail.handoffs.find((h) => h.id === activeId);
    if (active) return active;
  }
  let latest: Handoff | null = null;
  for (const h of detail.handoffs) {
    if (!latest || h.requested_at > latest.requested_at || (h.requested_at === latest.requested_at && h.id > latest.id)) {
      latest = h;
    }
  }
  return latest;
}

export function priorityLabel(priority: Priority): string {
  return priority.charAt(0).toUpperCase() + priority.slice(1);
}

export function isHighPriority(priority: Priority): boolean {
  return priority === 'high' || priority === 'urgent';
}

/** Characters as WhatsApp counts them (Unicode code points). */
export function charCount(text: string): number {
  return Array.from(text).length;
}
