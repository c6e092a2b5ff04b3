import type { AttachmentFile } from './attachments';
import type { IBackend, Unsubscribe } from './backend';
import { clearMediaCache } from './mediaCache';
import { BackendError, SESSION_ENDED_CODES, errorMessage, isDone, toBackendError } from './errors';
import { sortMessages } from './format';
import { Lazy } from './lazy.svelte';
import { PresenceReporter, type PresenceEntry } from './presence';
import { SeenStore, seenKey } from './unread.svelte';
import { isTauri } from './selectBackend';
import { canManage } from './route';
import type {
  AgentProfile,
  Availability,
  CannedResponse,
  Conversation,
  ConversationDetail,
  LiveEvent,
  MentionedEvent,
  Message,
  OutboxEntry,
  OutboxKind,
  PresenceState,
  RenderedResponse,
  Session,
  Team,
  Template,
} from './types';

export type Phase = 'starting' | 'login' | 'inbox';

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';
const LAST_SERVER_KEY = 'handoff-inbox.server-url';

/**
 * Where the login form points first: the page's own origin when the built web inbox is
 * served over http(s) by the Handoff server (`HANDOFF_WEB_DIR`), else `DEFAULT_SERVER_URL`
 * (the desktop app, and the Vite dev server, which serves no API).
 */
export function defaultServerUrl(win: Window = window, dev: boolean = import.meta.env.DEV): string {
  if (dev || isTauri(win)) return DEFAULT_SERVER_URL;
  const { protocol, origin } = win.location;
  return protocol === 'http:' || protocol === 'https:' ? origin : DEFAULT_SERVER_URL;
}

/** The server URL used for the last successful login, else the default. */
export function lastServerUrl(): string {
  try {
    return localStorage.getItem(LAST_SERVER_KEY) || defaultServerUrl();
  } catch {
    return defaultServerUrl();
  }
}

/** A message shown on the login screen, e.g. after the session expired. */
export interface Notice {
  code: BackendError['code'];
  text: string;
}

/**
 * App state: session, conversation list, open thread, connection.
 * Reloads the list and the open thread whenever the backend signals a change.
 */
export class Inbox {
  readonly backend: IBackend;

  phase = $state<Phase>('starting');
  session = $state<Session | null>(null);
  notice = $state<Notice | null>(null);

  /**
   * The list as the server sent it. Not deeply reactive (10,000 rows through proxies
   * are slow to read): never mutate it, replace the array (see `replaceConversation`).
   */
  conversations = $state.raw<readonly Conversation[]>([]);
  listLoaded = $state(false);
  listError = $state<BackendError | null>(null);

  selectedId = $state<number | null>(null);
  thread = $state<ConversationDetail | null>(null);
  threadLoading = $state(false);
  threadError = $state<BackendError | null>(null);

  /** `null` until the backend has reported the event stream's state. */
  connected = $state<boolean | null>(null);
  availabilityError = $state<BackendError | null>(null);
  /** Conversations this agent resolved during this session. */
  resolvedIds = $state<number[]>([]);

  /** The workspace's message templates; `null` until loaded (see `loadTemplates`). */
  templates = $state<Template[] | null>(null);
  templatesLoading = $state(false);
  templatesError = $state<BackendError | null>(null);

  /** Colleagues (not this agent) on each conversation, from live presence events. */
  presence = $state<Record<number, PresenceEntry[]>>({});
  /** @mentions of this agent not yet dismissed, oldest first. */
  mentions = $state<MentionedEvent[]>([]);
  /**
   * Why the conversation that was open is not any more (a teammate claimed it, it was
   * transferred away): shown where the thread was.
   */
  gone = $state<string | null>(null);

  /**
   * Changes made in the desktop app that wait for the server or that it refused,
   * oldest first (always empty in the browser).
   */
  outbox = $state<OutboxEntry[]>([]);
  /** Do not disturb: no desktop notifications (switched here or in the tray). */
  doNotDisturb = $state(false);
  /** Why the last change of a setting (do not disturb) failed. */
  settingsError = $state<BackendError | null>(null);

  /** What each conversation was last opened up to (unread marks), per server and agent. */
  readonly seen = new SeenStore();

  /** Loaded when first needed, once per login. */
  readonly agents: Lazy<AgentProfile[]>;
  readonly teams: Lazy<Team[]>;
  readonly cannedResponses: Lazy<CannedResponse[]>;

  private readonly presenceReporter: PresenceReporter;
  /** Why a conversation may be about to leave the list (said in `gone` if it does). */
  private goneReasons: Record<number, string> = {};
  private unsubscribers: Unsubscribe[] = [];
  private listSeq = 0;
  private threadSeq = 0;
  private templatesSeq = 0;
  private pendingOpen: number | null = null;
  private stopped = false;
  private outboxSeq = 0;
  private dndSeq = 0;
  /** What `setFocus` was last told (undefined: nothing yet). */
  private focusReported: number | null | undefined = undefined;

  constructor(backend: IBackend) {
    this.backend = backend;
    const handled = (e: BackendError) => this.endedSession(e);
    this.agents = new Lazy(() => backend.agents(), handled);
    this.teams = new Lazy(() => backend.teams(), handled);
    this.cannedResponses = new Lazy(() => backend.cannedResponses(), handled);
    this.presenceReporter = new PresenceReporter((id, state) => this.sendPresence(id, state));
  }

  get agentId(): number | null {
    return this.session?.agent.id ?? null;
  }

  /** A manager or an admin: the board and the metrics are theirs. */
  get canManage(): boolean {
    return canManage(this.session?.agent.role);
  }

  /**
   * A manager-console call (board, metrics, assign, ...). Rejects with a BackendError;
   * one that ended the session also takes the app back to the login screen.
   */
  manage<T>(call: (backend: IBackend) => Promise<T>): Promise<T> {
    return this.attempt(() => call(this.backend));
  }

  get selectedConversation(): Conversation | null {
    if (this.thread && this.thread.conversation.id === this.selectedId) return this.thread.conversation;
    return this.conversations.find((c) => c.id === this.selectedId) ?? null;
  }

  /** Subscribe to backend events, then restore a saved login. */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      const subs = await Promise.all([
        this.backend.onChange((ids) => this.handleChange(ids)),
        this.backend.onConnection((connected) => {
          this.connected = connected;
          // Events may be missed while disconnected: who is where is unknown.
          if (!connected) this.presence = {};
        }),
        this.backend.onOpenConversation((id) => this.handleOpen(id)),
        this.backend.onLive((event) => this.handleLive(event)),
        this.backend.onDoNotDisturb((on) => {
          this.dndSeq += 1;
          this.doNotDisturb = on;
        }),
      ]);
      if (this.stopped) subs.forEach((u) => u());
      else this.unsubscribers.push(...subs);
    } catch {
      // Without events the inbox still works; it just won't live-update.
    }

    void this.loadDoNotDisturb();

    let session: Session | null = null;
    try {
      session = await this.backend.session();
    } catch (err) {
      const e = toBackendError(err);
      this.notice = { code: e.code, text: errorMessage(e) };
    }
    if (session) await this.enter(session);
    else this.phase = 'login';
  }

  stop(): void {
    this.stopped = true;
    this.presenceReporter.stop();
    this.seen.unload();
    for (const u of this.unsubscribers.splice(0)) u();
  }

  /** Rejects with a BackendError; the login form shows it. */
  async login(serverUrl: string, email: string, password: string): Promise<void> {
    const session = await this.backend.login(serverUrl, email, password).catch((err: unknown) => {
      throw toBackendError(err);
    });
    try {
      localStorage.setItem(LAST_SERVER_KEY, session.server_url || serverUrl);
    } catch {
      // not important
    }
    this.notice = null;
    await this.enter(session);
  }

  async logout(): Promise<void> {
    try {
      await this.backend.logout();
    } catch {
      // Leave the inbox regardless.
    }
    this.reset();
  }

  private async enter(session: Session): Promise<void> {
    this.session = session;
    this.phase = 'inbox';
    this.seen.load(seenKey(session.server_url, session.agent.id));
    const open = this.pendingOpen;
    this.pendingOpen = null;
    await Promise.all([this.refreshList(), this.loadOutbox()]);
    if (open !== null) await this.select(open);
  }

  /**
   * Switch to another saved sign-in (desktop): the inbox then shows that account, as
   * after a login. Rejects with a BackendError (`not_logged_in`: it needs the password
   * again; `pending_changes`: changes made offline wait to be sent); the current
   * sign-in then goes on.
   */
  async switchAccount(serverUrl: string, email: string): Promise<void> {
    let session: Session;
    try {
      session = await this.backend.switchServer(serverUrl, email);
    } catch (err) {
      // Not `endedSession`: a refused switch leaves the current sign-in as it was.
      throw toBackendError(err);
    }
    try {
      localStorage.setItem(LAST_SERVER_KEY, session.server_url || serverUrl);
    } catch {
      // not important
    }
    this.clear();
    this.notice = null;
    await this.enter(session);
  }

  /** Sign a saved sign-in (not the current one) out and forget it. Rejects with a BackendError. */
  async forgetServer(serverUrl: string, email: string): Promise<void> {
    try {
      await this.backend.forgetServer(serverUrl, email);
    } catch (err) {
      throw toBackendError(err);
    }
  }

  private reset(notice: Notice | null = null): void {
    this.clear();
    this.session = null;
    this.phase = 'login';
    this.notice = notice;
  }

  /** Forgets everything of the account that was signed in. */
  private clear(): void {
    clearMediaCache(this.backend);
    this.conversations = [];
    this.listLoaded = false;
    this.listError = null;
    this.selectedId = null;
    this.thread = null;
    this.threadError = null;
    this.threadLoading = false;
    this.availabilityError = null;
    this.resolvedIds = [];
    this.templates = null;
    this.templatesLoading = false;
    this.templatesError = null;
    this.templatesSeq += 1;
    this.listSeq += 1;
    this.threadSeq += 1;
    this.agents.reset();
    this.teams.reset();
    this.cannedResponses.reset();
    this.presenceReporter.stop();
    this.presence = {};
    this.mentions = [];
    this.gone = null;
    this.goneReasons = {};
    this.seen.unload();
    this.outbox = [];
    this.outboxSeq += 1;
  }

  /** True if the error ended the session (we are back on the login screen). */
  private endedSession(err: BackendError): boolean {
    if (!SESSION_ENDED_CODES.has(err.code) || this.phase !== 'inbox') return false;
    this.reset({ code: err.code, text: errorMessage(err) });
    return true;
  }

  async refreshList(): Promise<void> {
    if (this.phase !== 'inbox') return;
    const seq = ++this.listSeq;
    try {
      const list = await this.backend.listConversations();
      if (seq !== this.listSeq) return;
      const before = this.conversations;
      this.conversations = list;
      this.listLoaded = true;
      this.listError = null;
      // The open conversation left this agent's view (a teammate claimed it from the
      // queue, it was transferred away): close it. One not listed yet (just opened from
      // a notification or a mention) stays open.
      const open = this.selectedId;
      if (open !== null && !list.some((c) => c.id === open) && before.some((c) => c.id === open)) {
        this.closeGone(open);
      }
    } catch (err) {
      const e = toBackendError(err);
      if (seq !== this.listSeq || this.endedSession(e)) return;
      this.listError = e;
    }
  }

  async select(conversationId: number): Promise<void> {
    if (this.phase !== 'inbox') {
      this.pendingOpen = conversationId;
      return;
    }
    this.gone = null;
    // Opened: read up to what the list knows at once (the thread may say more).
    const listed = this.conversations.find((c) => c.id === conversationId);
    if (listed) this.seen.mark(conversationId, listed.last_inbound_at);
    if (this.selectedId !== conversationId) {
      this.selectedId = conversationId;
      this.thread = null;
      this.threadError = null;
    }
    await this.loadThread(conversationId);
  }

  /** The open conversation is no longer this agent's to see: back to the placeholder, saying why. */
  private closeGone(conversationId: number): void {
    if (this.selectedId !== conversationId) return;
    this.threadSeq += 1;
    this.selectedId = null;
    this.thread = null;
    this.threadError = null;
    this.threadLoading = false;
    this.gone = this.goneReasons[conversationId] ?? 'That conversation is no longer in your inbox.';
    delete this.goneReasons[conversationId];
  }

  /** The newest customer message each conversation was marked read up to. */
  private markedRead: Record<number, string> = {};

  /**
   * While your own conversation is open, the customer's messages are read: blue ticks
   * on the newest one, once (as WhatsApp does for an open chat).
   */
  private markReadIfMine(detail: ConversationDetail): void {
    const c = detail.conversation;
    if (c.state !== 'assigned' || c.assignee_id === null || c.assignee_id !== this.agentId) return;
    const last = [...detail.messages].reverse().find((m) => m.direction === 'inbound' && m.wamid);
    if (!last?.wamid || this.markedRead[c.id] === last.wamid) return;
    this.markedRead[c.id] = last.wamid;
    this.backend.markRead(c.id).catch(() => {
      // Cosmetic for the customer: never in the agent's way.
    });
  }

  /** When each conversation last sent the typing indicator (not reactive state). */
  private lastTyping: Record<number, number> = {};

  /** The agent typed in the composer: show the indicator, at most every 20 s. */
  typing(conversationId: number): void {
    const now = Date.now();
    if (now - (this.lastTyping[conversationId] ?? 0) < 20_000) return;
    this.lastTyping[conversationId] = now;
    this.backend.typing(conversationId).catch(() => {
      // Cosmetic for the customer: never in the agent's way.
    });
  }

  async loadThread(conversationId: number): Promise<void> {
    const seq = ++this.threadSeq;
    this.threadLoading = true;
    try {
      const detail = await this.backend.getThread(conversationId);
      if (seq !== this.threadSeq || this.selectedId !== conversationId) return;
      this.thread = { ...detail, messages: sortMessages(detail.messages) };
      this.threadError = null;
      // On screen: whatever the customer wrote is seen.
      this.seen.mark(conversationId, detail.conversation.last_inbound_at);
      this.markReadIfMine(this.thread);
      // Keep the list row in step with what the thread shows.
      this.replaceConversation(detail.conversation);
    } catch (err) {
      const e = toBackendError(err);
      if (seq !== this.threadSeq || this.endedSession(e)) return;
      // Gone from this agent's view (or never there): the placeholder, not an error.
      if ((e.code === 'not_found' || e.code === 'forbidden') && this.selectedId === conversationId) {
        this.threadLoading = false;
        this.closeGone(conversationId);
        return;
      }
      this.threadError = e;
    } finally {
      if (seq === this.threadSeq) this.threadLoading = false;
    }
  }

  private handleChange(conversationIds: number[]): void {
    if (this.phase !== 'inbox') return;
    void this.refreshList();
    // The outbox changed, or what it waited for happened.
    void this.loadOutbox();
    const open = this.selectedId;
    if (open !== null && (conversationIds.length === 0 || conversationIds.includes(open))) {
      void this.loadThread(open);
    }
  }

  private handleOpen(conversationId: number): void {
    void this.select(conversationId);
  }

  private handleLive(event: LiveEvent): void {
    if (this.phase !== 'inbox') return;
    if (event.type === 'mentioned') {
      if (!this.mentions.some((m) => m.message_id === event.message_id)) this.mentions.push(event);
      // Being mentioned may have just made the conversation visible.
      void this.refreshList();
      return;
    }
    if (event.agent_id === this.agentId) return;
    const id = event.conversation_id;
    const others = (this.presence[id] ?? []).filter((p) => p.agent_id !== event.agent_id);
    if (event.state !== 'left') {
      others.push({ agent_id: event.agent_id, agent_name: event.agent_name, state: event.state, at: Date.now() });
    }
    if (others.length > 0) this.presence[id] = others;
    else delete this.presence[id];
  }

  /** Colleagues on the conversation, as live events said. */
  presenceOn(conversationId: number): PresenceEntry[] {
    return this.presence[conversationId] ?? [];
  }

  dismissMention(messageId: number): void {
    this.mentions = this.mentions.filter((m) => m.message_id !== messageId);
  }

  /** Open the conversation a mention is in (and forget the mention). */
  async openMention(mention: MentionedEvent): Promise<void> {
    this.dismissMention(mention.message_id);
    await this.select(mention.conversation_id);
  }

  // ---- presence ---------------------------------------------------------

  private sendPresence(conversationId: number, state: PresenceState): void {
    if (this.phase !== 'inbox') return;
    this.backend.setPresence(conversationId, state).catch(() => {
      // Colleagues just see less: never in the agent's way.
    });
  }

  /** The thread of the conversation is on screen. */
  viewing(conversationId: number): void {
    this.presenceReporter.open(conversationId);
  }

  /** The composer of the open conversation now holds `text`: typing, a draft, or nothing. */
  composing(conversationId: number, text: string): void {
    this.presenceReporter.input(conversationId, text);
  }

  /** The thread of the conversation was closed. */
  leaving(conversationId: number): void {
    this.presenceReporter.close(conversationId);
  }

  /**
   * Send a reply in the open conversation, quoting `replyTo` if given. Shows the
   * returned (pending) message at once, then reloads. Rejects with a BackendError.
   */
  async send(conversationId: number, text: string, replyTo: number | null = null): Promise<Message | null> {
    return this.deliver(conversationId, () =>
      replyTo === null
        ? this.backend.sendReply(conversationId, text)
        : this.backend.sendReply(conversationId, text, replyTo),
    );
  }

  /**
   * Send a file with a caption (may be empty), optionally quoting `replyTo`.
   * Shows the returned (pending) message at once, then reloads. Rejects with a BackendError.
   */
  async sendAttachment(
    conversationId: number,
    file: AttachmentFile,
    caption: string,
    replyTo: number | null = null,
  ): Promise<Message | null> {
    return this.deliver(conversationId, () => this.backend.sendAttachment(conversationId, file, caption, replyTo));
  }

  /**
   * Send `body` with reply buttons (their titles), optionally quoting `replyTo`.
   * Shows the returned (pending) message at once, then reloads. Rejects with a BackendError.
   */
  async sendInteractive(
    conversationId: number,
    body: string,
    buttons: string[],
    replyTo: number | null = null,
  ): Promise<Message | null> {
    return this.deliver(conversationId, () => this.backend.sendInteractive(conversationId, body, buttons, replyTo));
  }

  /** Runs a send; shows the message it returns, or ends the session on a session error. */
  private async deliver(conversationId: number, sendIt: () => Promise<Message>): Promise<Message | null> {
    let message: Message;
    try {
      message = await sendIt();
    } catch (err) {
      const e = toBackendError(err);
      if (isDone(e)) {
        // Applied before (a retry): it is there, just reload.
        await this.reload(conversationId);
        return null;
      }
      this.endedSession(e);
      throw e;
    }
    this.showSent(conversationId, message);
    return message;
  }

  /**
   * Load the templates once per login (again only after a failure or with `force`).
   * Errors land in `templatesError`.
   */
  async loadTemplates(force = false): Promise<void> {
    if (this.phase !== 'inbox' || this.templatesLoading) return;
    if (this.templates !== null && !force) return;
    const seq = ++this.templatesSeq;
    this.templatesLoading = true;
    this.templatesError = null;
    try {
      const list = await this.backend.templates();
      if (seq !== this.templatesSeq) return;
      this.templates = list;
    } catch (err) {
      const e = toBackendError(err);
      if (seq !== this.templatesSeq || this.endedSession(e)) return;
      this.templatesError = e;
    } finally {
      if (seq === this.templatesSeq) this.templatesLoading = false;
    }
  }

  /**
   * Send an approved template (works outside the 24-hour window). Shows the
   * returned (pending) message at once, then reloads. Rejects with a BackendError.
   */
  async sendTemplate(conversationId: number, name: string, language: string, parameters: string[]): Promise<Message | null> {
    return this.deliver(conversationId, () => this.backend.sendTemplate(conversationId, name, language, parameters));
  }

  private showSent(conversationId: number, message: Message): void {
    if (this.thread && this.thread.conversation.id === conversationId) {
      const others = this.thread.messages.filter((m) => m.id !== message.id);
      this.thread.messages = sortMessages([...others, message]);
    }
    void this.refreshList();
    if (this.selectedId === conversationId) void this.loadThread(conversationId);
  }

  /** Close the handoff; the conversation goes back to automation. */
  async resolve(conversationId: number, note: string | null): Promise<void> {
    try {
      await this.backend.resolve(conversationId, note);
    } catch (err) {
      const e = toBackendError(err);
      if (!isDone(e)) {
        this.endedSession(e);
        throw e;
      }
    }
    if (!this.resolvedIds.includes(conversationId)) this.resolvedIds.push(conversationId);
    await this.reload(conversationId);
  }

  /** The listed conversation with the same id becomes `conversation` (a new array: the list is `$state.raw`). */
  private replaceConversation(conversation: Conversation): void {
    const i = this.conversations.findIndex((c) => c.id === conversation.id);
    if (i < 0) return;
    const next = this.conversations.slice();
    next[i] = conversation;
    this.conversations = next;
  }

  /** Keeps the list row and the open thread in step with a conversation the server returned. */
  private showConversation(conversation: Conversation): void {
    this.replaceConversation(conversation);
    if (this.thread && this.thread.conversation.id === conversation.id) this.thread.conversation = conversation;
  }

  /** Runs a call; on failure ends the session if it has, and rejects with a BackendError. */
  private async attempt<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const e = toBackendError(err);
      this.endedSession(e);
      throw e;
    }
  }

  /**
   * Take a waiting conversation. When someone else took it first (`already_claimed`)
   * the list and thread are reloaded (it may leave the list; `gone` then says who
   * took it) and the error is rethrown. Rejects with a BackendError.
   */
  async claim(conversationId: number): Promise<void> {
    let conversation: Conversation;
    try {
      conversation = await this.attempt(() => this.backend.claim(conversationId));
    } catch (err) {
      const e = err as BackendError;
      if (isDone(e)) {
        await this.reload(conversationId);
        return;
      }
      if (e.code === 'already_claimed') {
        this.goneReasons[conversationId] = errorMessage(e);
        await this.reload(conversationId);
      }
      throw e;
    }
    this.showConversation(conversation);
    await this.reload(conversationId);
  }

  /**
   * Hand the conversation to a colleague or a team with a note. It may then leave this
   * agent's list (`gone` says where it went). Rejects with a BackendError.
   */
  async transfer(
    conversationId: number,
    to: { agentId: number; name: string } | { teamId: number; name: string },
    note: string,
  ): Promise<void> {
    const agentId = 'agentId' in to ? to.agentId : null;
    const teamId = 'teamId' in to ? to.teamId : null;
    let conversation: Conversation | null;
    try {
      conversation = await this.attempt(() => this.backend.transfer(conversationId, agentId, teamId, note));
    } catch (err) {
      if (!isDone(err as BackendError)) throw err;
      conversation = null;
    }
    this.goneReasons[conversationId] = `Transferred to ${to.name}.`;
    if (conversation) this.showConversation(conversation);
    await this.reload(conversationId);
  }

  /** Reload the list, the outbox, and the thread if it is open. */
  private async reload(conversationId: number): Promise<void> {
    await Promise.all([
      this.refreshList(),
      this.loadOutbox(),
      this.selectedId === conversationId ? this.loadThread(conversationId) : Promise.resolve(),
    ]);
    delete this.goneReasons[conversationId];
  }

  /**
   * Add an internal note (never sent to the customer). Shows it at once, then reloads.
   * Rejects with a BackendError.
   */
  async addNote(conversationId: number, text: string): Promise<Message | null> {
    return this.deliver(conversationId, () => this.backend.addNote(conversationId, text));
  }

  /** Replace the conversation's labels. Rejects with a BackendError. */
  async setLabels(conversationId: number, labels: string[]): Promise<void> {
    const conversation = await this.attempt(() => this.backend.setLabels(conversationId, labels));
    this.showConversation(conversation);
  }

  /** A canned response filled in for the conversation. Rejects with a BackendError. */
  renderCanned(id: number, conversationId: number): Promise<RenderedResponse> {
    return this.attempt(() => this.backend.renderCanned(id, conversationId));
  }

  /**
   * The person used the app: tell the server (throttled by the backend). If an idle
   * policy had made them away, the server brings them back online; reload the agent
   * then. Failures are not worth showing: the next activity tries again.
   */
  async activity(): Promise<void> {
    if (this.phase !== 'inbox') return;
    try {
      await this.backend.reportActivity();
    } catch (err) {
      this.endedSession(toBackendError(err));
    }
  }

  async setAvailability(availability: Availability): Promise<void> {
    this.availabilityError = null;
    try {
      const agent = await this.backend.setAvailability(availability);
      if (this.session) this.session = { ...this.session, agent };
    } catch (err) {
      const e = toBackendError(err);
      if (!this.endedSession(e)) this.availabilityError = e;
    }
  }

  // ---- outbox (desktop): changes made offline --------------------------------

  /** Reload the outbox. Failures are not worth showing: the next change tries again. */
  async loadOutbox(): Promise<void> {
    if (this.phase !== 'inbox') return;
    const seq = ++this.outboxSeq;
    try {
      const entries = await this.backend.outbox();
      if (seq !== this.outboxSeq) return;
      // `already_applied`: done after all; never shown.
      this.outbox = entries.filter((e) => !(e.state === 'failed' && e.error?.code === 'already_applied'));
    } catch (err) {
      if (seq === this.outboxSeq) this.endedSession(toBackendError(err));
    }
  }

  /** The conversation's waiting and refused changes, oldest first. */
  outboxFor(conversationId: number): OutboxEntry[] {
    return this.outbox.filter((e) => e.conversation_id === conversationId);
  }

  /** True if a change of this kind waits to be sent for the conversation. */
  hasPending(conversationId: number, kind: OutboxKind): boolean {
    return this.outbox.some((e) => e.conversation_id === conversationId && e.kind === kind && e.state === 'pending');
  }

  /** How many changes wait to be sent (refused ones not counted). */
  get pendingChanges(): number {
    return this.outbox.filter((e) => e.state === 'pending').length;
  }

  /** Send a refused change again. Rejects with a BackendError. */
  async retryChange(clientId: string): Promise<void> {
    const entry = this.outbox.find((e) => e.client_id === clientId);
    try {
      await this.backend.retryChange(clientId);
    } catch (err) {
      const e = toBackendError(err);
      if (!isDone(e)) {
        this.endedSession(e);
        throw e;
      }
    }
    if (entry) await this.reload(entry.conversation_id);
    else await this.loadOutbox();
  }

  /** Give up a waiting or refused change. Rejects with a BackendError. */
  async discardChange(clientId: string): Promise<void> {
    const entry = this.outbox.find((e) => e.client_id === clientId);
    await this.attempt(() => this.backend.discardChange(clientId));
    // Gone at once, whatever the reload says.
    this.outbox = this.outbox.filter((e) => e.client_id !== clientId);
    if (entry) await this.reload(entry.conversation_id);
    else await this.loadOutbox();
  }

  // ---- notifications --------------------------------------------------------

  /**
   * The conversation on screen while the main window has focus, else null: the
   * desktop app does not notify about it. Told only when it changes.
   */
  reportFocus(conversationId: number | null): void {
    if (this.focusReported === conversationId) return;
    this.focusReported = conversationId;
    this.backend.setFocus(conversationId).catch(() => {
      // Only a notification too many: never in the agent's way.
    });
  }

  private async loadDoNotDisturb(): Promise<void> {
    const seq = this.dndSeq;
    try {
      const on = await this.backend.doNotDisturb();
      // A switch meanwhile (here or in the tray) is newer.
      if (seq === this.dndSeq) this.doNotDisturb = on;
    } catch {
      // Unknown: shown off; switching it tells the backend anyway.
    }
  }

  /** Switch do not disturb; on failure it stays as it was and `settingsError` says why. */
  async setDoNotDisturb(on: boolean): Promise<void> {
    const before = this.doNotDisturb;
    const seq = ++this.dndSeq;
    this.doNotDisturb = on;
    this.settingsError = null;
    try {
      await this.backend.setDoNotDisturb(on);
    } catch (err) {
      const e = toBackendError(err);
      if (seq === this.dndSeq) this.doNotDisturb = before;
      if (!this.endedSession(e)) this.settingsError = e;
    }
  }
}
