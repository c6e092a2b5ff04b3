import { invoke, type InvokeArgs } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { bytesToBase64, type AttachmentFile } from './attachments';
import type { IBackend, Unsubscribe } from './backend';
import { toBackendError } from './errors';
import { parseLiveEvent } from './live';
import type {
  Agent,
  AgentProfile,
  Availability,
  Board,
  BreachReport,
  CannedResponse,
  Conversation,
  ConversationDetail,
  LiveEvent,
  Message,
  MetricsQuery,
  MetricsReport,
  OutboxEntry,
  PresenceState,
  Priority,
  RenderedResponse,
  SavedServer,
  SearchHit,
  Session,
  Team,
  Template,
  TimelineEvent,
} from './types';

export const EVENT_CHANGED = 'inbox://changed';
export const EVENT_CONNECTION = 'inbox://connection';
export const EVENT_OPEN_CONVERSATION = 'inbox://open-conversation';
/** Presence and mentions, as the server sent them (`{type: "presence" | "mentioned", ...}`). */
export const EVENT_LIVE = 'live';
/** Do not disturb was switched (in the app or the tray): `{on}`. */
export const EVENT_DO_NOT_DISTURB = 'inbox://do-not-disturb';
/** How many conversations wait for a person (the tray's count): `{count}`. */
export const EVENT_WAITING = 'inbox://waiting';

interface ChangedPayload {
  conversation_ids?: number[];
}
interface ConnectionPayload {
  connected: boolean;
}
interface OpenConversationPayload {
  conversation_id: number;
}
interface DoNotDisturbPayload {
  on: boolean;
}
interface WaitingPayload {
  count: number;
}

/** A metrics query as the Rust `MetricsQuery` reads it (snake_case, every field present). */
function wireQuery(query: MetricsQuery): Required<MetricsQuery> {
  return {
    from: query.from,
    to: query.to,
    bucket_ms: query.bucket_ms ?? null,
    team_id: query.team_id ?? null,
    agent_id: query.agent_id ?? null,
    priority: query.priority ?? null,
    trigger: query.trigger ?? null,
    business_hours: query.business_hours ?? false,
  };
}

/** Desktop backend: Tauri commands + events from the Rust side. */
export class TauriBackend implements IBackend {
  readonly desktop = true;

  private async call<T>(cmd: string, args?: InvokeArgs): Promise<T> {
    try {
      return await invoke<T>(cmd, args);
    } catch (err) {
      // Commands reject with `{code, message}`.
      throw toBackendError(err);
    }
  }

  session(): Promise<Session | null> {
    return this.call<Session | null>('session');
  }

  login(serverUrl: string, email: string, password: string): Promise<Session> {
    return this.call<Session>('login', { serverUrl, email, password });
  }

  async logout(): Promise<void> {
    await this.call<void>('logout');
  }

  listConversations(): Promise<Conversation[]> {
    return this.call<Conversation[]>('list_conversations');
  }

  getThread(conversationId: number): Promise<ConversationDetail> {
    return this.call<ConversationDetail>('get_thread', { conversationId });
  }

  /** Full-text search of the local SQLite copy. */
  search(query: string): Promise<SearchHit[]> {
    return this.call<SearchHit[]>('search', { query });
  }

  sendReply(conversationId: number, text: string, replyTo?: number | null): Promise<Message> {
    return this.call<Message>('send_reply', { conversationId, text, replyTo: replyTo ?? null });
  }

  /** The bytes cross the bridge as base64 (JSON has no bytes). */
  sendAttachment(
    conversationId: number,
    file: AttachmentFile,
    caption: string,
    replyTo?: number | null,
  ): Promise<Message> {
    return this.call<Message>('send_attachment', {
      conversationId,
      filename: file.name,
      mimeType: file.type,
      dataBase64: bytesToBase64(file.bytes),
      caption,
      replyTo: replyTo ?? null,
    });
  }

  sendInteractive(conversationId: number, body: string, buttons: string[], replyTo?: number | null): Promise<Message> {
    return this.call<Message>('send_interactive', { conversationId, body, buttons, replyTo: replyTo ?? null });
  }

  async resolve(conversationId: number, note: string | null): Promise<void> {
    await this.call<void>('resolve', { conversationId, note });
  }

  templates(): Promise<Template[]> {
    return this.call<Template[]>('templates');
  }

  sendTemplate(conversationId: number, name: string, language: string, parameters: string[]): Promise<Message> {
    return this.call<Message>('send_template', { conversationId, name, language, parameters });
  }

  setAvailability(availability: Availability): Promise<Agent> {
    return this.call<Agent>('set_availability', { availability });
  }

  async reportActivity(): Promise<void> {
    // inbox-core throttles the calls to the server.
    await this.call<void>('report_activity');
  }

  async markRead(conversationId: number): Promise<void> {
    await this.call<void>('mark_read', { conversationId });
  }

  async typing(conversationId: number): Promise<void> {
    await this.call<void>('typing', { conversationId });
  }

  /** The Rust side answers with a `data:<mime>;base64,...` URL. */
  media(messageId: number): Promise<string> {
    return this.call<string>('media', { messageId });
  }

  claim(conversationId: number): Promise<Conversation> {
    return this.call<Conversation>('claim', { conversationId });
  }

  transfer(conversationId: number, agentId: number | null, teamId: number | null, note: string): Promise<Conversation> {
    return this.call<Conversation>('transfer', { conversationId, agentId, teamId, note });
  }

  addNote(conversationId: number, text: string): Promise<Message> {
    return this.call<Message>('add_note', { conversationId, text });
  }

  setLabels(conversationId: number, labels: string[]): Promise<Conversation> {
    return this.call<Conversation>('set_labels', { conversationId, labels });
  }

  cannedResponses(): Promise<CannedResponse[]> {
    return this.call<CannedResponse[]>('canned_responses');
  }

  renderCanned(id: number, conversationId: number): Promise<RenderedResponse> {
    return this.call<RenderedResponse>('render_canned', { id, conversationId });
  }

  agents(): Promise<AgentProfile[]> {
    return this.call<AgentProfile[]>('agents');
  }

  teams(): Promise<Team[]> {
    return this.call<Team[]>('teams');
  }

  async setPresence(conversationId: number, state: PresenceState): Promise<void> {
    await this.call<void>('set_presence', { conversationId, state });
  }

  // ---- manager console -----------------------------------------------------

  board(): Promise<Board> {
    return this.call<Board>('board');
  }

  metrics(query: MetricsQuery): Promise<MetricsReport> {
    return this.call<MetricsReport>('metrics', { query: wireQuery(query) });
  }

  breaches(query: MetricsQuery): Promise<BreachReport> {
    return this.call<BreachReport>('breaches', { query: wireQuery(query) });
  }

  handoffTimeline(handoffId: number): Promise<TimelineEvent[]> {
    return this.call<TimelineEvent[]>('handoff_timeline', { handoffId });
  }

  setPriority(conversationId: number, priority: Priority): Promise<Conversation> {
    return this.call<Conversation>('set_priority', { conversationId, priority });
  }

  assign(conversationId: number, agentId: number): Promise<Conversation> {
    return this.call<Conversation>('assign', { conversationId, agentId });
  }

  /** The desktop asks where to save (or saves to Downloads) and returns the path. */
  async saveExport(fileName: string, contents: string): Promise<string | null> {
    const path = await this.call<string | null>('save_export', { fileName, contents });
    return typeof path === 'string' && path !== '' ? path : null;
  }

  // ---- outbox --------------------------------------------------------------

  outbox(): Promise<OutboxEntry[]> {
    return this.call<OutboxEntry[]>('outbox');
  }

  async discardChange(clientId: string): Promise<void> {
    await this.call<void>('discard_change', { clientId });
  }

  async retryChange(clientId: string): Promise<void> {
    await this.call<void>('retry_change', { clientId });
  }

  // ---- notifications -------------------------------------------------------

  async setFocus(conversationId: number | null): Promise<void> {
    await this.call<void>('set_focus', { conversationId });
  }

  doNotDisturb(): Promise<boolean> {
    return this.call<boolean>('do_not_disturb');
  }

  /** The Rust side emits `inbox://do-not-disturb` too (the tray menu follows). */
  async setDoNotDisturb(on: boolean): Promise<void> {
    await this.call<void>('set_do_not_disturb', { on });
  }

  // ---- desktop app ---------------------------------------------------------

  startAtLogin(): Promise<boolean> {
    return this.call<boolean>('start_at_login');
  }

  setStartAtLogin(on: boolean): Promise<boolean> {
    return this.call<boolean>('set_start_at_login', { on });
  }

  async openQuickReply(conversationId: number): Promise<void> {
    await this.call<void>('open_quick_reply', { conversationId });
  }

  async closeWindow(): Promise<void> {
    await this.call<void>('close_window');
  }

  /**
   * Asks the main window to open the conversation (`inbox://open-conversation`, as a
   * notification's Open does). Bringing that window to the front is the Rust side's.
   */
  async showInApp(conversationId: number): Promise<void> {
    // The desktop brings the main window forward (even from the tray) on that thread.
    await this.call<void>('show_conversation', { conversationId });
  }

  // ---- saved sign-ins ------------------------------------------------------

  savedServers(): Promise<SavedServer[]> {
    return this.call<SavedServer[]>('saved_servers');
  }

  switchServer(serverUrl: string, email: string): Promise<Session> {
    return this.call<Session>('switch_server', { serverUrl, email });
  }

  async forgetServer(serverUrl: string, email: string): Promise<void> {
    await this.call<void>('forget_server', { serverUrl, email });
  }

  private async subscribe<P>(event: string, handler: (payload: P) => void): Promise<Unsubscribe> {
    try {
      return await listen<P>(event, (e) => handler(e.payload));
    } catch (err) {
      throw toBackendError(err);
    }
  }

  onChange(cb: (conversationIds: number[]) => void): Promise<Unsubscribe> {
    return this.subscribe<ChangedPayload>(EVENT_CHANGED, (p) => cb(p?.conversation_ids ?? []));
  }

  async onConnection(cb: (connected: boolean) => void): Promise<Unsubscribe> {
    const unsubscribe = await this.subscribe<ConnectionPayload>(EVENT_CONNECTION, (p) => cb(Boolean(p?.connected)));
    // The stream may have connected before this page subscribed: ask once.
    try {
      const now = await invoke<boolean | null>('connection_status');
      if (typeof now === 'boolean') cb(now);
    } catch {
      // Not available (yet): the next event will tell.
    }
    return unsubscribe;
  }

  onOpenConversation(cb: (conversationId: number) => void): Promise<Unsubscribe> {
    return this.subscribe<OpenConversationPayload>(EVENT_OPEN_CONVERSATION, (p) => {
      if (typeof p?.conversation_id === 'number') cb(p.conversation_id);
    });
  }

  onLive(cb: (event: LiveEvent) => void): Promise<Unsubscribe> {
    return this.subscribe<unknown>(EVENT_LIVE, (p) => {
      const event = parseLiveEvent(p);
      if (event) cb(event);
    });
  }

  onDoNotDisturb(cb: (on: boolean) => void): Promise<Unsubscribe> {
    return this.subscribe<DoNotDisturbPayload>(EVENT_DO_NOT_DISTURB, (p) => {
      if (typeof p?.on === 'boolean') cb(p.on);
    });
  }

  onWaiting(cb: (count: number) => void): Promise<Unsubscribe> {
    return this.subscribe<WaitingPayload>(EVENT_WAITING, (p) => {
      if (typeof p?.count === 'number' && Number.isFinite(p.count)) cb(p.count);
    });
  }
}
