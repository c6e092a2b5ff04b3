import { vi } from 'vitest';
import type { IBackend } from '../lib/backend';
import { attachmentKind, bytesToBase64, type AttachmentFile } from '../lib/attachments';
import { BackendError } from '../lib/errors';
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
  MediaInfo,
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
} from '../lib/types';
import { searchConversations } from '../lib/search';
import {
  board as defaultBoard,
  breachReport as defaultBreaches,
  conversation as conversationFixture,
  metricsReport as defaultMetrics,
  session as defaultSession,
} from './fixtures';

/** In-memory IBackend for component tests. Every method is a vi spy. */
export class FakeBackend implements IBackend {
  /** As the desktop app (outbox, saved sign-ins, start at login, quick reply) or the browser. */
  desktop: boolean;
  currentSession: Session | null;
  /** What `outbox()` returns. */
  outboxEntries: OutboxEntry[] = [];
  /** What `savedServers()` returns; `switchServer` needs `signed_in`. */
  savedServerList: SavedServer[] = [];
  dnd = false;
  startAtLoginOn = false;
  dndCbs = new Set<(on: boolean) => void>();
  waitingCbs = new Set<(count: number) => void>();
  conversations: Conversation[];
  threads = new Map<number, ConversationDetail>();
  /** Make the next call of a method reject with this error. */
  failures = new Map<string, BackendError>();
  changeCbs = new Set<(ids: number[]) => void>();
  connectionCbs = new Set<(connected: boolean) => void>();
  openCbs = new Set<(id: number) => void>();
  /** Media URLs by message id, as `media()` returns them. */
  mediaUrls = new Map<number, string>();
  /** What `templates()` returns. */
  templateList: Template[];
  liveCbs = new Set<(event: LiveEvent) => void>();
  /** What `agents()`, `teams()` and `cannedResponses()` return. */
  agentList: AgentProfile[];
  teamList: Team[];
  cannedList: CannedResponse[];
  /** `missing` of `renderCanned()` by canned response id (default: none). */
  cannedMissing = new Map<number, string[]>();
  /** What `search()` returns; null: it searches `conversations` as the browser backend does. */
  searchHits: SearchHit[] | null = null;
  /** What `board()` returns (a copy); `assign` and `setPriority` change it as the server would. */
  boardState: Board;
  /** What `metrics()` and `breaches()` return, whatever the query. */
  metricsReport: MetricsReport;
  breachReport: BreachReport;
  /** What `handoffTimeline()` returns, by handoff id (default: none). */
  timelines = new Map<number, TimelineEvent[]>();
  private nextPending = -1;

  constructor(
    init: {
      session?: Session | null;
      details?: ConversationDetail[];
      templates?: Template[];
      agents?: AgentProfile[];
      teams?: Team[];
      canned?: CannedResponse[];
      desktop?: boolean;
      outbox?: OutboxEntry[];
      savedServers?: SavedServer[];
      board?: Board;
      metrics?: MetricsReport;
      breaches?: BreachReport;
    } = {},
  ) {
    this.boardState = structuredClone(init.board ?? defaultBoard());
    this.metricsReport = structuredClone(init.metrics ?? defaultMetrics());
    this.breachReport = structuredClone(init.breaches ?? defaultBreaches());
    this.desktop = init.desktop ?? false;
    this.outboxEntries = structuredClone(init.outbox ?? []);
    this.savedServerList = structuredClone(init.savedServers ?? []);
    this.currentSession = init.session === undefined ? defaultSession : init.session;
    this.templateList = structuredClone(init.templates ?? []);
    this.agentList = structuredClone(init.agents ?? []);
    this.teamList = structuredClone(init.teams ?? []);
    this.cannedList = structuredClone(init.canned ?? []);
    const details = init.details ?? [];
    for (const d of details) this.threads.set(d.conversation.id, structuredClone(d));
    this.conversations = details.map((d) => structuredClone(d.conversation));
  }

  private fail(method: string): void {
    const err = this.failures.get(method);
    if (err) {
      this.failures.delete(method);
      throw err;
    }
  }

  session = vi.fn(async (): Promise<Session | null> => {
    this.fail('session');
    return this.currentSession;
  });

  login = vi.fn(async (serverUrl: string, email: string, _password: string): Promise<Session> => {
    this.fail('login');
    this.currentSession = { ...defaultSession, server_url: serverUrl, agent: { ...defaultSession.agent, email } };
    return this.currentSession;
  });

  logout = vi.fn(async (): Promise<void> => {
    this.fail('logout');
    this.currentSession = null;
  });

  listConversations = vi.fn(async (): Promise<Conversation[]> => {
    this.fail('listConversations');
    return structuredClone(this.conversations);
  });

  getThread = vi.fn(async (conversationId: number): Promise<ConversationDetail> => {
    this.fail('getThread');
    const d = this.threads.get(conversationId);
    if (!d) throw new BackendError('not_found', `conversation ${conversationId} not found`);
    return structuredClone(d);
  });

  search = vi.fn(async (query: string): Promise<SearchHit[]> => {
    this.fail('search');
    return structuredClone(this.searchHits ?? searchConversations(this.conversations, query));
  });

  markRead = vi.fn(async (_conversationId: number): Promise<void> => {
    this.fail('markRead');
  });

  typing = vi.fn(async (_conversationId: number): Promise<void> => {
    this.fail('typing');
  });

  sendReply = vi.fn(async (conversationId: number, text: string, replyTo?: number | null): Promise<Message> => {
    this.fail('sendReply');
    const context = this.context(conversationId, replyTo);
    // Like the server: a quoting reply carries `content` with the quoted wamid.
    return this.pending(
      conversationId,
      'text',
      text,
      context ? { type: 'text', text: { body: text }, context } : undefined,
    );
  });

  /**
   * Sends a file in memory: a pending message whose media is ready at once, served
   * by `media()` as a data URL of the bytes.
   */
  sendAttachment = vi.fn(
    async (conversationId: number, file: AttachmentFile, caption: string, replyTo?: number | null): Promise<Message> => {
      this.fail('sendAttachment');
      const kind = attachmentKind(file.type);
      if (!kind) throw new BackendError('unsupported_media_type', `cannot send ${file.type}`);
      const object: Record<string, unknown> = { mime_type: file.type };
      if (caption !== '') object.caption = caption;
      if (kind === 'document') object.filename = file.name;
      const context = this.context(conversationId, replyTo);
      const m = this.pending(conversationId, kind, caption || file.name, {
        type: kind,
        [kind]: object,
        ...(context ? { context } : {}),
      });
      const media: MediaInfo = { status: 'ready', mime_type: file.type, size: file.bytes.length, error: null };
      this.patch(conversationId, m.id, { media });
      this.mediaUrls.set(m.id, `data:${file.type};base64,${bytesToBase64(file.bytes)}`);
      return { ...m, media };
    },
  );

  sendInteractive = vi.fn(
    async (conversationId: number, body: string, buttons: string[], replyTo?: number | null): Promise<Message> => {
      this.fail('sendInteractive');
      const context = this.context(conversationId, replyTo);
      return this.pending(conversationId, 'interactive', body, {
        type: 'interactive',
        interactive: {
          type: 'button',
          body: { text: body },
          action: { buttons: buttons.map((title, i) => ({ type: 'reply', reply: { id: `btn-${i + 1}`, title } })) },
        },
        ...(context ? { context } : {}),
      });
    },
  );

  /** WhatsApp's `context` quoting message `replyTo` of the conversation. */
  private context(conversationId: number, replyTo: number | null | undefined): { id: string } | null {
    if (replyTo === null || replyTo === undefined) return null;
    const target = this.threads.get(conversationId)?.messages.find((m) => m.id === replyTo);
    if (!target) throw new BackendError('invalid_input', `reply_to ${replyTo} names no message`);
    if (!target.wamid) throw new BackendError('conflict', 'that message has not reached WhatsApp yet');
    return { id: target.wamid };
  }

  private patch(conversationId: number, messageId: number, fields: Partial<Message>): void {
    const m = this.threads.get(conversationId)?.messages.find((x) => x.id === messageId);
    if (m) Object.assign(m, fields);
  }

  templates = vi.fn(async (): Promise<Template[]> => {
    this.fail('templates');
    return structuredClone(this.templateList);
  });

  sendTemplate = vi.fn(
    async (conversationId: number, name: string, language: string, parameters: string[]): Promise<Message> => {
      this.fail('sendTemplate');
      return this.pending(conversationId, 'template', `Template: ${name}`, {
        name,
        language: { code: language },
        components: [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }],
      });
    },
  );

  private pending(conversationId: number, kind: string, text: string, content?: unknown): Message {
    const now = Date.now();
    const m: Message = {
      id: this.nextPending--,
      conversation_id: conversationId,
      wamid: null,
      client_id: `client-${-this.nextPending}`,
      direction: 'outbound',
      author: 'agent',
      agent_id: this.currentSession?.agent.id ?? null,
      kind,
      text,
      ...(content === undefined ? {} : { content }),
      status: 'queued',
      error: null,
      sent_at: now,
      created_at: now,
    };
    this.threads.get(conversationId)?.messages.push(m);
    return structuredClone(m);
  }

  resolve = vi.fn(async (conversationId: number, note: string | null): Promise<void> => {
    this.fail('resolve');
    const d = this.threads.get(conversationId);
    if (!d) throw new BackendError('not_found', 'nope');
    const patch = { state: 'automation' as const, assignee_id: null, active_handoff_id: null };
    Object.assign(d.conversation, patch);
    for (const h of d.handoffs) {
      if (h.status !== 'resolved') Object.assign(h, { status: 'resolved', resolved_at: Date.now(), resolution_note: note });
    }
    const row = this.conversations.find((c) => c.id === conversationId);
    if (row) Object.assign(row, patch);
  });

  reportActivity = vi.fn(async (): Promise<void> => {
    this.fail('reportActivity');
  });

  setAvailability = vi.fn(async (availability: Availability): Promise<Agent> => {
    this.fail('setAvailability');
    if (!this.currentSession) throw new BackendError('not_logged_in', 'no');
    this.currentSession.agent = { ...this.currentSession.agent, availability };
    return structuredClone(this.currentSession.agent);
  });

  media = vi.fn(async (messageId: number): Promise<string> => {
    this.fail('media');
    const url = this.mediaUrls.get(messageId);
    if (url === undefined) throw new BackendError('not_found', `media of message ${messageId} not found`);
    return url;
  });

  /** Like the server: the queued conversation becomes the caller's. */
  claim = vi.fn(async (conversationId: number): Promise<Conversation> => {
    this.fail('claim');
    const me = this.currentSession?.agent.id ?? null;
    return this.update(conversationId, { state: 'assigned', assignee_id: me }, { status: 'assigned', assignee_id: me });
  });

  /** To a colleague: theirs at once; to a team: back in that team's queue. */
  transfer = vi.fn(
    async (conversationId: number, agentId: number | null, teamId: number | null, note: string): Promise<Conversation> => {
      this.fail('transfer');
      if ((agentId === null) === (teamId === null)) throw new BackendError('invalid_input', 'one of agent_id, team_id');
      if (note.trim() === '') throw new BackendError('invalid_input', 'a transfer needs a note');
      return agentId !== null
        ? this.update(
            conversationId,
            { state: 'assigned', assignee_id: agentId },
            { status: 'assigned', assignee_id: agentId, transfer_note: note },
          )
        : this.update(
            conversationId,
            { state: 'waiting', assignee_id: null, team_id: teamId },
            { status: 'waiting', assignee_id: null, team_id: teamId, transfer_note: note },
          );
    },
  );

  addNote = vi.fn(async (conversationId: number, text: string): Promise<Message> => {
    this.fail('addNote');
    const m = this.pending(conversationId, 'note', text);
    const note: Partial<Message> = { direction: 'note', status: 'received' };
    this.patch(conversationId, m.id, note);
    return { ...m, ...note };
  });

  setLabels = vi.fn(async (conversationId: number, labels: string[]): Promise<Conversation> => {
    this.fail('setLabels');
    return this.update(conversationId, { labels: [...labels] });
  });

  cannedResponses = vi.fn(async (): Promise<CannedResponse[]> => {
    this.fail('cannedResponses');
    return structuredClone(this.cannedList);
  });

  /** Fills `{{contact.name}}`; every other variable is reported missing (or as `cannedMissing` says). */
  renderCanned = vi.fn(async (id: number, conversationId: number): Promise<RenderedResponse> => {
    this.fail('renderCanned');
    const canned = this.cannedList.find((c) => c.id === id);
    if (!canned) throw new BackendError('not_found', `canned response ${id} not found`);
    const name = this.threads.get(conversationId)?.conversation.contact.name ?? '';
    const missing: string[] = [];
    const text = canned.body.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_all, key: string) => {
      if (key === 'contact.name' && name !== '') return name;
      if (!missing.includes(key)) missing.push(key);
      return '';
    });
    return { text, missing: this.cannedMissing.get(id) ?? missing };
  });

  agents = vi.fn(async (): Promise<AgentProfile[]> => {
    this.fail('agents');
    return structuredClone(this.agentList);
  });

  teams = vi.fn(async (): Promise<Team[]> => {
    this.fail('teams');
    return structuredClone(this.teamList);
  });

  setPresence = vi.fn(async (_conversationId: number, _state: PresenceState): Promise<void> => {
    this.fail('setPresence');
  });

  // ---- manager console ------------------------------------------------------

  board = vi.fn(async (): Promise<Board> => {
    this.fail('board');
    return structuredClone(this.boardState);
  });

  metrics = vi.fn(async (_query: MetricsQuery): Promise<MetricsReport> => {
    this.fail('metrics');
    return structuredClone(this.metricsReport);
  });

  breaches = vi.fn(async (_query: MetricsQuery): Promise<BreachReport> => {
    this.fail('breaches');
    return structuredClone(this.breachReport);
  });

  handoffTimeline = vi.fn(async (handoffId: number): Promise<TimelineEvent[]> => {
    this.fail('handoffTimeline');
    return structuredClone(this.timelines.get(handoffId) ?? []);
  });

  setPriority = vi.fn(async (conversationId: number, priority: Priority): Promise<Conversation> => {
    this.fail('setPriority');
    return this.manage(conversationId, { priority });
  });

  /** Like the server: assigned to the agent (out of any queue). */
  assign = vi.fn(async (conversationId: number, agentId: number): Promise<Conversation> => {
    this.fail('assign');
    return this.manage(conversationId, { state: 'assigned', assignee_id: agentId });
  });

  /** The desktop says where it saved the file; the browser, nothing. */
  saveExport = vi.fn(async (fileName: string, _contents: string): Promise<string | null> => {
    this.fail('saveExport');
    return this.desktop ? `/home/ben/Downloads/${fileName}` : null;
  });

  /** A manager's change: to the thread (if any), the list row and the board entry; returns the conversation. */
  private manage(conversationId: number, fields: Partial<Conversation>): Conversation {
    const entry = this.boardState.conversations.find((e) => e.conversation_id === conversationId);
    if (!entry && !this.threads.has(conversationId)) {
      throw new BackendError('not_found', `conversation ${conversationId} not found`);
    }
    if (entry) {
      if (fields.priority !== undefined) entry.priority = fields.priority;
      if (fields.assignee_id !== undefined) entry.assignee_id = fields.assignee_id;
      if (fields.state === 'waiting' || fields.state === 'assigned') entry.status = fields.state;
    }
    if (this.threads.has(conversationId)) return this.update(conversationId, fields);
    return conversationFixture({
      id: conversationId,
      state: entry?.status === 'assigned' ? 'assigned' : 'waiting',
      priority: entry?.priority ?? 'normal',
      assignee_id: entry?.assignee_id ?? null,
      team_id: entry?.team_id ?? null,
      active_handoff_id: entry?.handoff_id ?? null,
      contact: { id: conversationId + 10, wa_id: null, bsuid: null, name: entry?.contact_name ?? null },
      ...fields,
    });
  }

  outbox = vi.fn(async (): Promise<OutboxEntry[]> => {
    this.fail('outbox');
    return structuredClone(this.outboxEntries);
  });

  /** Like the desktop: the entry goes (and its message from the thread), and the window hears of it. */
  discardChange = vi.fn(async (clientId: string): Promise<void> => {
    this.fail('discardChange');
    const entry = this.outboxEntries.find((e) => e.client_id === clientId);
    if (!entry) throw new BackendError('not_found', 'nothing to discard');
    this.outboxEntries = this.outboxEntries.filter((e) => e !== entry);
    const d = this.threads.get(entry.conversation_id);
    if (d) d.messages = d.messages.filter((m) => m.client_id !== clientId);
    this.emitChange([entry.conversation_id]);
  });

  /** The refused change waits again. */
  retryChange = vi.fn(async (clientId: string): Promise<void> => {
    this.fail('retryChange');
    const entry = this.outboxEntries.find((e) => e.client_id === clientId);
    if (!entry) throw new BackendError('not_found', 'nothing to retry');
    Object.assign(entry, { state: 'pending', error: null });
    this.emitChange([entry.conversation_id]);
  });

  setFocus = vi.fn(async (_conversationId: number | null): Promise<void> => {
    this.fail('setFocus');
  });

  doNotDisturb = vi.fn(async (): Promise<boolean> => {
    this.fail('doNotDisturb');
    return this.dnd;
  });

  /** Like the desktop: the change is announced to every window. */
  setDoNotDisturb = vi.fn(async (on: boolean): Promise<void> => {
    this.fail('setDoNotDisturb');
    this.emitDoNotDisturb(on);
  });

  onDoNotDisturb = vi.fn(async (cb: (on: boolean) => void) => {
    this.dndCbs.add(cb);
    return () => void this.dndCbs.delete(cb);
  });

  onWaiting = vi.fn(async (cb: (count: number) => void) => {
    this.waitingCbs.add(cb);
    return () => void this.waitingCbs.delete(cb);
  });

  startAtLogin = vi.fn(async (): Promise<boolean> => {
    this.fail('startAtLogin');
    return this.startAtLoginOn;
  });

  setStartAtLogin = vi.fn(async (on: boolean): Promise<boolean> => {
    this.fail('setStartAtLogin');
    this.startAtLoginOn = on;
    return on;
  });

  openQuickReply = vi.fn(async (_conversationId: number): Promise<void> => {
    this.fail('openQuickReply');
  });

  closeWindow = vi.fn(async (): Promise<void> => {
    this.fail('closeWindow');
  });

  showInApp = vi.fn(async (_conversationId: number): Promise<void> => {
    this.fail('showInApp');
  });

  savedServers = vi.fn(async (): Promise<SavedServer[]> => {
    this.fail('savedServers');
    return structuredClone(this.savedServerList);
  });

  /** To a saved sign-in that kept its tokens; `not_logged_in` otherwise. */
  switchServer = vi.fn(async (serverUrl: string, email: string): Promise<Session> => {
    this.fail('switchServer');
    const saved = this.savedServerList.find((s) => s.server_url === serverUrl && s.email === email);
    if (!saved?.signed_in) throw new BackendError('not_logged_in', 'sign in again');
    for (const s of this.savedServerList) s.current = s === saved;
    this.currentSession = {
      server_url: serverUrl,
      workspace_name: saved.workspace_name,
      agent: { ...defaultSession.agent, email, name: saved.agent_name },
    };
    return structuredClone(this.currentSession);
  });

  forgetServer = vi.fn(async (serverUrl: string, email: string): Promise<void> => {
    this.fail('forgetServer');
    this.savedServerList = this.savedServerList.filter((s) => !(s.server_url === serverUrl && s.email === email));
  });

  emitDoNotDisturb(on: boolean): void {
    this.dnd = on;
    for (const cb of this.dndCbs) cb(on);
  }

  /** Changes the conversation (thread and list row) and its open handoff; returns the conversation. */
  private update(
    conversationId: number,
    fields: Partial<Conversation>,
    handoff: Partial<ConversationDetail['handoffs'][number]> = {},
  ): Conversation {
    const d = this.threads.get(conversationId);
    if (!d) throw new BackendError('not_found', `conversation ${conversationId} not found`);
    Object.assign(d.conversation, fields, { updated_at: Date.now() });
    const open = d.handoffs.find((h) => h.id === d.conversation.active_handoff_id);
    if (open) Object.assign(open, handoff);
    const row = this.conversations.find((c) => c.id === conversationId);
    if (row) Object.assign(row, structuredClone(d.conversation));
    return structuredClone(d.conversation);
  }

  onChange = vi.fn(async (cb: (ids: number[]) => void) => {
    this.changeCbs.add(cb);
    return () => void this.changeCbs.delete(cb);
  });

  onConnection = vi.fn(async (cb: (connected: boolean) => void) => {
    this.connectionCbs.add(cb);
    return () => void this.connectionCbs.delete(cb);
  });

  onOpenConversation = vi.fn(async (cb: (id: number) => void) => {
    this.openCbs.add(cb);
    return () => void this.openCbs.delete(cb);
  });

  onLive = vi.fn(async (cb: (event: LiveEvent) => void) => {
    this.liveCbs.add(cb);
    return () => void this.liveCbs.delete(cb);
  });

  emitLive(event: LiveEvent): void {
    for (const cb of this.liveCbs) cb(event);
  }

  emitChange(ids: number[] = []): void {
    for (const cb of this.changeCbs) cb(ids);
  }

  emitConnection(connected: boolean): void {
    for (const cb of this.connectionCbs) cb(connected);
  }

  emitOpen(id: number): void {
    for (const cb of this.openCbs) cb(id);
  }
}
