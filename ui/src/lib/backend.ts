import type { AttachmentFile } from './attachments';
import type {
  Agent,
  AgentProfile,
  Availability,
  CannedResponse,
  Conversation,
  ConversationDetail,
  LiveEvent,
  Message,
  PresenceState,
  RenderedResponse,
  SearchHit,
  Session,
  Team,
  Template,
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
  /** `conversationIds` empty means "something changed, reload everything". */
  onChange(cb: (conversationIds: number[]) => void): Promise<Unsubscribe>;
  onConnection(cb: (connected: boolean) => void): Promise<Unsubscribe>;
  /** e.g. a desktop notification was clicked. */
  onOpenConversation(cb: (conversationId: number) => void): Promise<Unsubscribe>;
  /** Live events: colleagues' presence on conversations, and @mentions of this agent. */
  onLive(cb: (event: LiveEvent) => void): Promise<Unsubscribe>;
}
