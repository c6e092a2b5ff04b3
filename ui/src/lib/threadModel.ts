// Folds a conversation's messages into what the thread shows: reactions,
// edits and deletions are applied to the message they point at (by wamid)
// instead of being bubbles of their own; replies find the message they quote.
// Internal notes between agents are entries of their own, never bubbles.

import type { Direction, Message } from './types';
import { ACTION_KINDS, asObject, asText, contentOf, describeContent, messageContext, messageKind, summarize } from './content';

export interface ReactionChip {
  /** Who reacted: one reaction per side of the conversation, the latest wins. */
  from: Direction;
  emoji: string;
}

export interface MessageEntry {
  type: 'message';
  key: string;
  /** The message as shown: with the latest edit applied. */
  message: Message;
  /** The message as received. */
  original: Message;
  edited: boolean;
  deleted: boolean;
  reactions: ReactionChip[];
  /** null: not a reply. `target: null`: replies to a message not in this thread. */
  reply: { target: MessageEntry | null } | null;
}

/** A centred system line: WhatsApp system messages, and reactions/edits/deletions of messages not in the thread. */
export interface NoticeEntry {
  type: 'notice';
  key: string;
  message: Message;
  text: string;
}

/** An internal note between agents (`direction: 'note'`): never sent to the customer. */
export interface NoteEntry {
  type: 'note';
  key: string;
  message: Message;
}

export type ThreadEntry = MessageEntry | NoticeEntry | NoteEntry;

/** True for an internal note between agents, which the customer never sees. */
export function isNote(message: Message): boolean {
  return message.direction === 'note';
}

/** The quote shown above a reply. `targetId` is null when the quoted message is not in the thread. */
export interface ReplyQuote {
  targetId: number | null;
  author: string | null;
  text: string;
}

/** The message the agent is answering, shown above the composer until sent or cancelled. */
export interface ReplyDraft {
  conversationId: number;
  messageId: number;
  /** "Maria Lopez", "You", "Bot", ... */
  author: string;
  /** One line of what it says. */
  text: string;
}

/** One line of at most `max` characters: whitespace collapsed, "…" when cut. */
export function snippet(text: string, max = 100): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}

function quoted(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `“${line.slice(0, 79)}…”` : `“${line}”`;
}

/** The new content an edit carries: `edit.message` with its own `type` and type object. */
function editedMessage(target: Message, edit: Message): Message {
  const replacement = asObject(asObject(contentOf(edit)?.edit)?.message);
  if (!replacement) return target;
  const kind = asText(replacement.type)?.trim() ?? messageKind(target);
  const part = replacement[kind];
  // Keep the original's context (what it replied to, forwarded, referral); take the new body.
  const content = { ...(contentOf(target) ?? {}), type: kind, [kind]: part };
  const partObj = asObject(part);
  const text = asText(partObj?.body) ?? asText(partObj?.caption) ?? target.text;
  return { ...target, kind, content, text };
}

function editSummary(edit: Message): string | null {
  const replacement = asObject(asObject(contentOf(edit)?.edit)?.message);
  const kind = asText(replacement?.type);
  const part = kind ? asObject(replacement?.[kind]) : null;
  return asText(part?.body) ?? asText(part?.caption);
}

function targetOf(action: Message, kind: string): string | null {
  const part = asObject(contentOf(action)?.[kind]);
  return kind === 'reaction' ? asText(part?.message_id) : asText(part?.original_message_id);
}

function noticeText(action: Message, kind: string): string {
  if (kind === 'reaction') {
    const emoji = asText(asObject(contentOf(action)?.reaction)?.emoji) ?? (contentOf(action) ? null : asText(action.text));
    return emoji ? `Reacted ${emoji.trim()} to an earlier message` : 'Removed a reaction from an earlier message';
  }
  if (kind === 'edit') {
    const text = editSummary(action);
    return text ? `Edited an earlier message: ${quoted(text)}` : 'Edited an earlier message';
  }
  return 'Deleted an earlier message';
}

/** The thread's entries in order (`messages` already sorted chronologically). */
export function buildThread(messages: readonly Message[]): ThreadEntry[] {
  const entries: ThreadEntry[] = [];
  const byWamid = new Map<string, MessageEntry>();
  const reactions = new Map<MessageEntry, Map<Direction, ReactionChip>>();
  const actions: { at: number; message: Message; kind: string }[] = [];

  for (const m of messages) {
    // Notes are never reactions, edits, quotes or targets of any of them.
    if (isNote(m)) {
      entries.push({ type: 'note', key: `m-${m.id}`, message: m });
      continue;
    }
    const kind = messageKind(m);
    if (ACTION_KINDS.has(kind)) {
      actions.push({ at: entries.length, message: m, kind });
      continue;
    }
    if (kind === 'system' && m.author !== 'system') {
      const view = describeContent(m);
      entries.push({ type: 'notice', key: `m-${m.id}`, message: m, text: view.type === 'system' ? view.text : summarize(view) });
      continue;
    }
    const entry: MessageEntry = {
      type: 'message',
      key: `m-${m.id}`,
      message: m,
      original: m,
      edited: false,
      deleted: false,
      reactions: [],
      reply: null,
    };
    entries.push(entry);
    if (m.wamid && !byWamid.has(m.wamid)) byWamid.set(m.wamid, entry);
  }

  // Apply reactions, edits and deletions in order; the ones whose target is not
  // here become notices where they happened.
  const notices: { at: number; entry: NoticeEntry }[] = [];
  for (const { at, message: action, kind } of actions) {
    const wamid = targetOf(action, kind);
    const target = wamid !== null ? byWamid.get(wamid) : undefined;
    // Only the sender may edit or delete their own message.
    const applies = target !== undefined && (kind === 'reaction' || target.original.direction === action.direction);
    if (!applies || !target) {
      notices.push({ at, entry: { type: 'notice', key: `m-${action.id}`, message: action, text: noticeText(action, kind) } });
      continue;
    }
    if (kind === 'reaction') {
      const emoji = asText(asObject(contentOf(action)?.reaction)?.emoji)?.trim() ?? null;
      let chips = reactions.get(target);
      if (!chips) reactions.set(target, (chips = new Map()));
      chips.delete(action.direction);
      if (emoji) chips.set(action.direction, { from: action.direction, emoji });
    } else if (kind === 'edit') {
      if (target.deleted) continue;
      target.message = editedMessage(target.original, action);
      target.edited = true;
    } else {
      target.deleted = true;
    }
  }
  for (const [entry, chips] of reactions) entry.reactions = entry.deleted ? [] : Array.from(chips.values());

  for (const entry of entries) {
    if (entry.type !== 'message') continue;
    const replyTo = messageContext(entry.original).replyTo;
    if (replyTo === null) continue;
    const target = byWamid.get(replyTo);
    entry.reply = { target: target && target !== entry ? target : null };
  }

  if (notices.length === 0) return entries;
  const out: ThreadEntry[] = [];
  let n = 0;
  for (let i = 0; i <= entries.length; i++) {
    while (n < notices.length && notices[n].at === i) out.push(notices[n++].entry);
    if (i < entries.length) out.push(entries[i]);
  }
  return out;
}
