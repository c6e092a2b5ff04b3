import type { AttachmentFile } from './attachments';
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

export type { Session } from './types';
export type { AttachmentFile } from './attachments';

export type Unsubscribe = () => void;

/**
 * Everything the UI needs from the outside world. The UI talks only to this;
 * TauriBackend (desktop) and HttpBackend (plain browser) implement it.
 * Every method rejects with a BackendError.
 */
export interface IBackend {
  /**
   * True in the desktop app: an outbox of changes made offline, start at login, the
   * quick-reply window and several saved sign-ins. The browser has none of them.
   */
  readonly desktop: boolean;
  /** Restore a saved login on startup. */
  session(): Promise<Session | null>;
  login(serverUrl: string, email: string, password: string): Promise<Session>;
  logout(): Promise<void>;
  /** Newest activity first. */
  listConversations(): Promise<Conversation[]>;
  getThread(conversationId: number): Promise<ConversationDetail>;
  /**
   * Conversations (and, on the desktop, messages) matching every word of `query`
   * (case- and accent-insensitive, word prefixes), best first. The desktop searches
   * its local copy (works offline); the browser, the conversations it has loaded.
   */
  search(query: string): Promise<SearchHit[]>;
  /**
   * Send a text reply; with `replyTo` (a message id of this conversation) it quotes
   * that message. Returns the pending message.
   */
  sendReply(conversationId: number, text: string, replyTo?: number | null): Promise<Message>;
  /**
   * Send a file (image, video, audio or document) with `caption` (may be empty),
   * optionally quoting `replyTo`. Returns the pending message.
   */
  sendAttachment(
    conversationId: number,
    file: AttachmentFile,
    caption: string,
    replyTo?: number | null,
  ): Promise<Message>;
  /**
   * Send `body` with up to 3 reply buttons (`buttons` are their titles), optionally
   * quoting `replyTo`. Returns the pending message.
   */
  sendInteractive(conversationId: number, body: string, buttons: string[], replyTo?: number | null): Promise<Message>;
  resolve(conversationId: number, note: string | null): Promise<void>;
  /** The workspace's WhatsApp message templates (every status). */
  templates(): Promise<Template[]>;
  /**
   * Send an approved template (allowed outside the 24-hour window); `parameters`
   * fill the body's `{{1}}`, `{{2}}`, ... in order. Returns the pending message.
   */
  sendTemplate(conversationId: number, name: string, language: string, parameters: string[]): Promise<Message>;
  setAvailability(availability: Availability): Promise<Agent>;
  /**
   * The person used the app (a key, a click): keeps an idle-away policy from marking
   * them away, and brings them back if it had. Cheap to call often: throttled.
   */
  reportActivity(): Promise<void>;
  /** The agent opened the thread: the customer sees blue ticks on their last message. */
  markRead(conversationId: number): Promise<void>;
  /** The agent is typing: the customer sees the typing indicator (about 25 s). */
  typing(conversationId: number): Promise<void>;
  /**
   * A URL for a media message's file (`status: 'ready'`) to use as `src`/`href`:
   * a `data:` URL (desktop) or an object URL (browser).
   */
  media(messageId: number): Promise<string>;
  /**
   * Take a waiting (queued) conversation. Rejects with `already_claimed`
   * (`details.owner` `{id, name}`) when someone else took it first.
   */
  claim(conversationId: number): Promise<Conversation>;
  /**
   * Hand the conversation to a colleague (`agentId`) or a team (`teamId`): exactly
   * one of them, the other null. `note` (required) is shown to whoever receives it.
   */
  transfer(conversationId: number, agentId: number | null, teamId: number | null, note: string): Promise<Conversation>;
  /**
   * An internal note (never sent to the customer); `@handle` mentions a colleague
   * (their email's local part or first name). Returns the note (`direction: 'note'`).
   */
  addNote(conversationId: number, text: string): Promise<Message>;
  /** Replace the conversation's labels. */
  setLabels(conversationId: number, labels: string[]): Promise<Conversation>;
  /** The saved replies this agent may use. */
  cannedResponses(): Promise<CannedResponse[]>;
  /** A saved reply with its variables filled in for one conversation. */
  renderCanned(id: number, conversationId: number): Promise<RenderedResponse>;
  /** The workspace's people, with role, availability and load. */
  agents(): Promise<AgentProfile[]>;
  teams(): Promise<Team[]>;
  /** Tell colleagues what this agent is doing on a conversation (collision detection). */
  setPresence(conversationId: number, state: PresenceState): Promise<void>;

  // ---- manager console (role `manager` or `admin`; others get `forbidden`) ----

  /** Every open handoff in SLA-risk order, every agent's load and every team's queue. */
  board(): Promise<Board>;
  /** Escalation figures over a period (`from` inclusive, `to` exclusive), filtered. */
  metrics(query: MetricsQuery): Promise<MetricsReport>;
  /** SLA breaches and near misses over a period, with the same filters as `metrics`. */
  breaches(query: MetricsQuery): Promise<BreachReport>;
  /** What happened to one handoff, oldest first. */
  handoffTimeline(handoffId: number): Promise<TimelineEvent[]>;
  setPriority(conversationId: number, priority: Priority): Promise<Conversation>;
  /** Assign (or reassign) the conversation to `agentId`; "take over" is assigning it to oneself. */
  assign(conversationId: number, agentId: number): Promise<Conversation>;
  /**
   * Save an export (CSV text) as `fileName`. The desktop writes the file and returns
   * where; the browser downloads it and returns null.
   */
  saveExport(fileName: string, contents: string): Promise<string | null>;
  // ---- outbox (desktop): changes made offline -----------------------------

  /**
   * Changes waiting for the server, or refused by it (oldest first). On the desktop,
   * claim/transfer/resolve/addNote/sendReply made offline are queued here and resolve
   * as if done; the server applies them later, exactly once. `onChange` fires when the
   * outbox changes. The browser has none: always `[]`.
   */
  outbox(): Promise<OutboxEntry[]>;
  /** Give up a waiting or refused change. Rejects with `not_found` if there is none. */
  discardChange(clientId: string): Promise<void>;
  /** Send a refused change again. Rejects with `not_found` if there is none. */
  retryChange(clientId: string): Promise<void>;

  // ---- notifications ----------------------------------------------------

  /**
   * The conversation on screen while the main window has focus, else null: its news
   * needs no desktop notification. (Nothing in the browser.)
   */
  setFocus(conversationId: number | null): Promise<void>;
  /** Do not disturb: no desktop notifications. */
  doNotDisturb(): Promise<boolean>;
  setDoNotDisturb(on: boolean): Promise<void>;
  /** Do not disturb was switched (e.g. from the tray menu). */
  onDoNotDisturb(cb: (on: boolean) => void): Promise<Unsubscribe>;
  /** How many conversations wait for a person (the tray's count). Never fires in the browser. */
  onWaiting(cb: (count: number) => void): Promise<Unsubscribe>;

  // ---- desktop app ------------------------------------------------------

  /** Whether the app starts when the person logs in to the computer (always false in the browser). */
  startAtLogin(): Promise<boolean>;
  /** Returns the new state (the browser cannot: false). */
  setStartAtLogin(on: boolean): Promise<boolean>;
  /** Open the small always-on-top reply window for a conversation (nothing in the browser). */
  openQuickReply(conversationId: number): Promise<void>;
  /** Close the calling window (the quick-reply window; never the main one). */
  closeWindow(): Promise<void>;
  /** Open the conversation in the main window (from the quick-reply window). */
  showInApp(conversationId: number): Promise<void>;

  // ---- saved sign-ins (desktop) -----------------------------------------

  /** The servers and accounts the app signed in to, most recent first (none in the browser). */
  savedServers(): Promise<SavedServer[]>;
  /**
   * Run another saved sign-in instead of the current one (which stays saved). Rejects
   * with `not_logged_in` when it needs the password again, `pending_changes` while
   * changes made offline wait to be sent.
   */
  switchServer(serverUrl: string, email: string): Promise<Session>;
  /** Sign a saved sign-in (not the current one) out and forget it. */
  forgetServer(serverUrl: string, email: string): Promise<void>;

  /** `conversationIds` empty means "something changed, reload everything". */
  onChange(cb: (conversationIds: number[]) => void): Promise<Unsubscribe>;
  onConnection(cb: (connected: boolean) => void): Promise<Unsubscribe>;
  /** e.g. a desktop notification was clicked. */
  onOpenConversation(cb: (conversationId: number) => void): Promise<Unsubscribe>;
  /** Live events: colleagues' presence on conversations, and @mentions of this agent. */
  onLive(cb: (event: LiveEvent) => void): Promise<Unsubscribe>;
}
