// Completion in the composer: `@handle` mentions in notes, `/shortcut` canned responses in replies.

import type { AgentProfile, CannedResponse } from './types';

/** How many suggestions a list shows at most. */
export const MAX_SUGGESTIONS = 8;

/** Characters of a handle, as the server reads them after `@`. */
const HANDLE_CHAR = /[\p{L}\p{N}._-]/u;
const HANDLE = /^[\p{L}\p{N}._-]*[\p{L}\p{N}]$/u;

/** The `@partial` being typed: where it starts (the `@`), ends (the caret) and what follows the `@`. */
export interface MentionQuery {
  start: number;
  end: number;
  query: string;
}

/**
 * The mention the caret is at the end of: an `@` at the start of the text or after a
 * character that is not a letter or digit (so not an email address), then handle
 * characters up to the caret. Null otherwise.
 */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  let i = caret;
  while (i > 0 && HANDLE_CHAR.test(text[i - 1])) i -= 1;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  if (at > 0 && /[\p{L}\p{N}]/u.test(text[at - 1])) return null;
  return { start: at, end: caret, query: text.slice(i, caret) };
}

export function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? '';
}

/**
 * How to @mention a colleague: their email's local part, lower-case; their first name
 * when the local part holds characters a handle cannot (`ana+support`).
 */
export function mentionHandle(agent: Pick<AgentProfile, 'email' | 'name'>): string {
  const local = agent.email.split('@')[0].toLowerCase();
  if (HANDLE.test(local)) return local;
  const first = firstName(agent.name).toLowerCase();
  return HANDLE.test(first) ? first : local;
}

/** Colleagues whose first name or email local part starts with `query` (any case), by name. */
export function matchAgents<T extends Pick<AgentProfile, 'email' | 'name'>>(
  agents: readonly T[],
  query: string,
  limit = MAX_SUGGESTIONS,
): T[] {
  const q = query.toLowerCase();
  return agents
    .filter((a) => {
      const local = a.email.split('@')[0].toLowerCase();
      return local.startsWith(q) || firstName(a.name).toLowerCase().startsWith(q);
    })
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, limit);
}

/** `text` with `query` (a mention) replaced by `@handle ` and where the caret goes after it. */
export function insertMention(text: string, query: MentionQuery, handle: string): { text: string; caret: number } {
  const inserted = `@${handle} `;
  const rest = text.slice(query.end).replace(/^ /, '');
  return { text: text.slice(0, query.start) + inserted + rest, caret: query.start + inserted.length };
}

/** What follows a `/` that starts the text (a one-line canned-response search); null otherwise. */
export function cannedQuery(text: string): string | null {
  const m = /^\/([^\n]*)$/.exec(text);
  return m ? m[1] : null;
}

/**
 * Canned responses whose shortcut or title contains `query` (any case): shortcuts
 * starting with it first, then the others, each by shortcut.
 */
export function matchCanned(list: readonly CannedResponse[], query: string, limit = MAX_SUGGESTIONS): CannedResponse[] {
  const q = query.trim().toLowerCase();
  const rank = (c: CannedResponse) => (c.shortcut.toLowerCase().startsWith(q) ? 0 : 1);
  return list
    .filter((c) => c.shortcut.toLowerCase().includes(q) || c.title.toLowerCase().includes(q))
    .sort((a, b) => rank(a) - rank(b) || a.shortcut.localeCompare(b.shortcut))
    .slice(0, limit);
}
