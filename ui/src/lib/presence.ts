// Presence: telling colleagues what this agent does on a conversation (collision
// detection), and putting into words what they do.

import type { PresenceState } from './types';
import { firstName } from './suggest';

/** `typing` is sent at most this often while the agent keeps typing. */
export const TYPING_EVERY_MS = 5_000;
/** This long after the last key, unsent text in the composer is a `draft`. */
export const DRAFT_AFTER_MS = 5_000;
/** The current state is sent again this often: the server forgets it after 45 s. */
export const PRESENCE_REFRESH_MS = 30_000;

/**
 * Reports this agent's presence on the one open conversation: `viewing` when it
 * opens, `typing` while they type (throttled), `draft` once they stop with unsent
 * text, `viewing` again when the composer is empty, `left` when it closes.
 * Uses timers; `send` must not throw (it is fire-and-forget).
 */
export class PresenceReporter {
  private readonly send: (conversationId: number, state: PresenceState) => void;
  private current: { conversationId: number; state: PresenceState; typingAt: number } | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;

  constructor(send: (conversationId: number, state: PresenceState) => void) {
    this.send = send;
  }

  /** The conversation this agent has open, if any. */
  get conversationId(): number | null {
    return this.current?.conversationId ?? null;
  }

  get state(): PresenceState | null {
    return this.current?.state ?? null;
  }

  /** The agent opened the conversation (leaving any other one). */
  open(conversationId: number): void {
    if (this.current?.conversationId === conversationId) return;
    if (this.current) this.close(this.current.conversationId);
    this.current = { conversationId, state: 'viewing', typingAt: 0 };
    this.send(conversationId, 'viewing');
    this.refreshTimer = setInterval(() => {
      if (this.current) this.send(this.current.conversationId, this.current.state);
    }, PRESENCE_REFRESH_MS);
  }

  /** The composer of the conversation now holds `text` (the agent typed, or it was sent). */
  input(conversationId: number, text: string): void {
    if (this.current?.conversationId !== conversationId) this.open(conversationId);
    const current = this.current!;
    this.clearIdle();
    if (text.trim() === '') {
      this.set('viewing');
      return;
    }
    const now = Date.now();
    if (current.state !== 'typing' || now - current.typingAt >= TYPING_EVERY_MS) {
      current.typingAt = now;
      current.state = 'typing';
      this.send(conversationId, 'typing');
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.set('draft');
    }, DRAFT_AFTER_MS);
  }

  /** The agent closed the conversation. */
  close(conversationId: number): void {
    if (this.current?.conversationId !== conversationId) return;
    this.stop();
    this.send(conversationId, 'left');
  }

  /** Forget everything without telling anyone (the login ended). */
  stop(): void {
    this.clearIdle();
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.current = null;
  }

  private set(state: PresenceState): void {
    if (!this.current || this.current.state === state) return;
    this.current.state = state;
    this.send(this.current.conversationId, state);
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** A colleague on a conversation, as live `presence` events said. */
export interface PresenceEntry {
  agent_id: number;
  agent_name: string;
  state: Exclude<PresenceState, 'left'>;
  /** When the event arrived. */
  at: number;
}

function who(entry: PresenceEntry): string {
  return firstName(entry.agent_name) || entry.agent_name;
}

/** "Maya is typing…", "Ben is viewing", "Olga has an unsent reply", one per colleague. */
export function presencePhrases(entries: readonly PresenceEntry[]): string[] {
  return entries.map((e) => {
    if (e.state === 'typing') return `${who(e)} is typing…`;
    if (e.state === 'draft') return `${who(e)} has an unsent reply`;
    return `${who(e)} is viewing`;
  });
}

/** "Maya", "Maya and Ben", "Maya, Ben and Olga". */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "Maya is also replying" when colleagues type or hold a draft here; else null. */
export function collisionWarning(entries: readonly PresenceEntry[]): string | null {
  const names = entries.filter((e) => e.state === 'typing' || e.state === 'draft').map(who);
  if (names.length === 0) return null;
  return `${joinNames(names)} ${names.length === 1 ? 'is' : 'are'} also replying`;
}
