// Client-side search over loaded conversations (the browser has no local database),
// and the snippet format both backends share: matched words wrapped in `[` `]`.

import type { Conversation, SearchHit } from './types';

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower case, without accents: "Ñandú" -> "nandu". */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The query's words, folded. */
export function queryTerms(query: string): string[] {
  return Array.from(foldText(query).matchAll(WORD), (m) => m[0]);
}

/**
 * `text` with every word that starts with one of `terms` wrapped in brackets,
 * and which of the terms matched; null when none did.
 */
function markWords(text: string, terms: string[]): { snippet: string; matched: Set<string> } | null {
  const matched = new Set<string>();
  const snippet = text.replace(WORD, (word) => {
    const folded = foldText(word);
    const hits = terms.filter((t) => folded.startsWith(t));
    if (hits.length === 0) return word;
    for (const t of hits) matched.add(t);
    return `[${word}]`;
  });
  return matched.size > 0 ? { snippet, matched } : null;
}

/** What a conversation is searched by: the contact's name and number, labels, last message. */
function searchableFields(c: Conversation): string[] {
  const fields = [c.contact.name, c.contact.wa_id, ...(c.labels ?? []), c.last_message_preview];
  return fields.filter((f): f is string => typeof f === 'string' && f.trim() !== '');
}

/**
 * Conversations where every word of `query` is the start of a word of some field
 * (case- and accent-insensitive), in list order. The snippet joins the fields that
 * matched, with the matches in brackets.
 */
export function searchConversations(conversations: Conversation[], query: string): SearchHit[] {
  const terms = queryTerms(query);
  if (terms.length === 0) return [];
  const hits: SearchHit[] = [];
  for (const c of conversations) {
    const found = new Set<string>();
    const parts: string[] = [];
    for (const field of searchableFields(c)) {
      const marked = markWords(field, terms);
      if (!marked) continue;
      parts.push(marked.snippet);
      for (const t of marked.matched) found.add(t);
    }
    if (terms.every((t) => found.has(t))) {
      hits.push({ conversation_id: c.id, message_id: null, snippet: parts.join(' · ') });
    }
  }
  return hits;
}

export interface SnippetPart {
  text: string;
  /** A matched part (was in brackets). */
  mark: boolean;
}

/** Splits a snippet into plain and matched parts (for rendering without HTML). */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const re = /\[([^[\]]*)\]/g;
  let last = 0;
  for (const m of snippet.matchAll(re)) {
    const start = m.index;
    if (start > last) parts.push({ text: snippet.slice(last, start), mark: false });
    if (m[1] !== '') parts.push({ text: m[1], mark: true });
    last = start + m[0].length;
  }
  if (last < snippet.length) parts.push({ text: snippet.slice(last), mark: false });
  return parts;
}
