import type { LiveEvent, PresenceState } from './types';

const PRESENCE_STATES: ReadonlySet<string> = new Set<PresenceState>(['viewing', 'typing', 'draft', 'left']);

function id(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * A live event (`presence`, `mentioned`) from the server's JSON, checked field by
 * field; null for anything else (`hello`, `poke`, newer types, malformed frames).
 */
export function parseLiveEvent(value: unknown): LiveEvent | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const conversationId = id(v.conversation_id);
  if (conversationId === null) return null;
  if (v.type === 'presence') {
    const agentId = id(v.agent_id);
    if (agentId === null || typeof v.state !== 'string' || !PRESENCE_STATES.has(v.state)) return null;
    return {
      type: 'presence',
      conversation_id: conversationId,
      agent_id: agentId,
      agent_name: text(v.agent_name) || 'A colleague',
      state: v.state as PresenceState,
    };
  }
  if (v.type === 'mentioned') {
    const messageId = id(v.message_id);
    if (messageId === null) return null;
    return {
      type: 'mentioned',
      conversation_id: conversationId,
      message_id: messageId,
      by_name: text(v.by_name) || 'A colleague',
    };
  }
  return null;
}
