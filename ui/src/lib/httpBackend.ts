import type { AttachmentFile, UploadedAttachment } from './attachments';
import type { IBackend, Unsubscribe } from './backend';
import { BackendError, SESSION_ENDED_CODES, errorDetails, isErrorCode, toBackendError, type ErrorCode } from './errors';
import { parseLiveEvent } from './live';
import { searchConversations } from './search';
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
  LoginResponse,
  Message,
  MetricsQuery,
  MetricsReport,
  OutboxEntry,
  PresenceState,
  Priority,
  RefreshRequest,
  RefreshResponse,
  RenderedResponse,
  SavedServer,
  SearchHit,
  Session,
  Team,
  Template,
  TimelineEvent,
} from './types';

export const SESSION_STORAGE_KEY = 'handoff-inbox.session';
/** Do not disturb, kept in `localStorage` (the browser shows no desktop notifications). */
export const DO_NOT_DISTURB_KEY = 'handoff-inbox.do-not-disturb';

interface StoredAuth {
  server_url: string;
  /** The access token (short-lived). */
  token: string;
  expires_at: number;
  /** Renews `token` at `POST /v1/auth/refresh`; each works once. Null from older servers. */
  refresh_token?: string | null;
  refresh_expires_at?: number | null;
  agent: Agent;
  workspace_name: string;
}

/** Renew the access token before opening the event stream when it expires within this. */
export const TOKEN_RENEW_MARGIN_MS = 30_000;

/** Failures that say nothing about the session: the refresh may work next time. */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['network', 'upstream', 'internal', 'rate_limited']);

/** `hello` / `poke`; any other frame (`presence`, `mentioned`, newer types) goes to `parseLiveEvent`. */
type EventFrame = { type: 'hello'; cursor: number } | { type: 'poke'; cursor: number };

export interface HttpBackendOptions {
  /**
   * Where the login survives a page reload. Defaults to `sessionStorage`
   * (per tab, gone when the tab closes); pass `null` for memory only.
   */
  storage?: Storage | null;
  /** Where settings (do not disturb) are kept. Defaults to `localStorage`; `null`: memory only. */
  preferences?: Storage | null;
  /** WebSocket constructor; defaults to the global one at connect time. */
  webSocket?: typeof WebSocket;
  /** Reconnect backoff for the event stream. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
}

/** Accepts `host:port`, `http://host:port/`, … and returns `http://host:port`. */
export function normalizeServerUrl(input: string): string {
  let value = input.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) value = `http://${value}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BackendError('invalid_input', `Invalid server URL: ${input}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BackendError('invalid_input', `Unsupported server URL scheme: ${url.protocol}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * The query string of `GET /v1/metrics` (and `/breaches`): `?from=&to=` and each filter
 * that is set; `business_hours=true` only when on.
 */
export function metricsSearch(query: MetricsQuery): string {
  const params = new URLSearchParams();
  params.set('from', String(Math.trunc(query.from)));
  params.set('to', String(Math.trunc(query.to)));
  const optional: [string, number | string | null | undefined][] = [
    ['bucket_ms', query.bucket_ms],
    ['team_id', query.team_id],
    ['agent_id', query.agent_id],
    ['priority', query.priority],
    ['trigger', query.trigger],
  ];
  for (const [key, value] of optional) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  if (query.business_hours) params.set('business_hours', 'true');
  return `?${params.toString()}`;
}

/** Activity is reported to the server at most this often. */
export const ACTIVITY_EVERY_MS = 30_000;

/** `http(s)://host/prefix` -> `ws(s)://host/prefix/v1/events?access_token=…` */
export function eventsUrl(serverUrl: string, token: string): string {
  const url = new URL(`${serverUrl}/v1/events`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('access_token', token);
  return url.toString();
}

/** RFC 4122 v4 id; `crypto.randomUUID` only exists in secure contexts. */
export function newClientId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid_input';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'upstream';
    default:
      return 'internal';
  }
}

/** `Retry-After` in seconds, when given as a number. */
function retryAfterHeader(res: Response): number | null {
  const value = Number(res.headers.get('retry-after') ?? '');
  return Number.isFinite(value) && value > 0 ? value : null;
}

/**
 * The error of a failed response: the `{code, message, details?}` body, else the
 * `x-handoff-error` header, else a code from the HTTP status.
 */
async function errorFromResponse(res: Response): Promise<BackendError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall back to the header and the status code
  }
  const header = res.headers.get('x-handoff-error')?.trim();
  const fallback = isErrorCode(header) ? header : codeForStatus(res.status);
  let error: BackendError;
  if (typeof body === 'object' && body !== null && 'code' in body) {
    const { code, message, details } = body as { code: unknown; message?: unknown; details?: unknown };
    const text = typeof message === 'string' ? message : `HTTP ${res.status}`;
    error = new BackendError(isErrorCode(code) ? code : fallback, text, errorDetails(details));
  } else {
    error = new BackendError(fallback, `HTTP ${res.status} ${res.statusText}`.trim());
  }
  const retryAfter = retryAfterHeader(res);
  if (error.code === 'rate_limited' && retryAfter !== null && error.details?.retry_after_secs === undefined) {
    error = new BackendError(error.code, error.message, { ...error.details, retry_after_secs: retryAfter });
  }
  return error;
}

interface RequestOptions {
  base?: string;
  auth?: boolean;
  accept?: string;
  /** Send these bytes as the body (instead of `body` as JSON). */
  raw?: { bytes: Uint8Array; contentType: string; headers?: Record<string, string> };
}

function toSession(auth: StoredAuth): Session {
  return { server_url: auth.server_url, agent: auth.agent, workspace_name: auth.workspace_name };
}

/** Browser backend: talks to the Handoff server with fetch + a WebSocket. */
export class HttpBackend implements IBackend {
  readonly desktop = false;

  private auth: StoredAuth | null = null;
  private readonly storage: Storage | null;
  private readonly preferences: Storage | null;
  /** Do not disturb when `preferences` cannot keep it. */
  private dnd = false;
  private readonly options: HttpBackendOptions;

  private readonly changeListeners = new Set<(ids: number[]) => void>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private readonly openListeners = new Set<(id: number) => void>();
  private readonly liveListeners = new Set<(event: LiveEvent) => void>();
  private readonly dndListeners = new Set<(on: boolean) => void>();

  /** The last conversation list loaded: what `search()` searches. */
  private loaded: Conversation[] = [];

  /** Object URLs handed out by `media()`, revoked on logout. */
  private readonly objectUrls = new Set<string>();

  private socket: WebSocket | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private cursor: number | null = null;
  private connected = false;
  private wantEvents = false;
  /** Renewing the access token before connecting the event stream. */
  private connecting = false;

  /** The one refresh in flight; every call that needs new tokens waits for it. */
  private renewing: Promise<void> | null = null;
  /** Why the login ended (a failed refresh), told to calls made after it. */
  private endedBy: BackendError | null = null;

  constructor(options: HttpBackendOptions = {}) {
    this.options = options;
    this.storage =
      options.storage !== undefined
        ? options.storage
        : typeof sessionStorage !== 'undefined'
          ? sessionStorage
          : null;
    this.preferences =
      options.preferences !== undefined
        ? options.preferences
        : typeof localStorage !== 'undefined'
          ? localStorage
          : null;
  }

  // ---- HTTP -------------------------------------------------------------

  /**
   * Sends a request; rejects with a BackendError unless the response is OK.
   * An expired access token (401 `token_expired`) is renewed once and the
   * request sent again.
   */
  private async send(
    method: string,
    path: string,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<Response> {
    const useAuth = opts.auth ?? true;
    // Another call is renewing the token: wait for the new one rather than send a stale one.
    if (useAuth && this.renewing) await this.renewing.catch(() => {});
    let renewed = false;
    for (;;) {
      const sentWith = useAuth ? this.auth?.token : undefined;
      const res = await this.fetchOnce(method, path, body, opts);
      if (res.ok) return res;
      const error = await errorFromResponse(res);
      if (useAuth && error.code === 'token_expired' && !renewed && this.auth?.refresh_token) {
        renewed = true;
        // Unless a call that failed the same way renewed it already.
        if (this.auth.token === sentWith) await this.renew();
        continue;
      }
      // Only the login that sent the request can be ended by its answer.
      if (useAuth && SESSION_ENDED_CODES.has(error.code) && this.auth && this.auth.token === sentWith) {
        this.forget(error);
      }
      throw error;
    }
  }

  private async fetchOnce(method: string, path: string, body: unknown, opts: RequestOptions): Promise<Response> {
    const useAuth = opts.auth ?? true;
    const base = opts.base ?? this.auth?.server_url;
    if (useAuth && !this.auth) {
      throw this.endedBy ?? new BackendError('not_logged_in', 'Not logged in');
    }
    if (!base) throw new BackendError('not_logged_in', 'Not logged in');
    const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
    let payload: BodyInit | undefined;
    if (opts.raw) {
      headers['Content-Type'] = opts.raw.contentType;
      Object.assign(headers, opts.raw.headers);
      payload = opts.raw.bytes as Uint8Array<ArrayBuffer>;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    if (useAuth && this.auth) headers.Authorization = `Bearer ${this.auth.token}`;

    try {
      return await fetch(`${base}${path}`, { method, headers, body: payload });
    } catch (err) {
      throw new BackendError('network', err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * New tokens for the current login (`POST /v1/auth/refresh`). Calls made while a
   * refresh is in flight share it: a refresh token works only once. If the server
   * refuses, the login has ended: it is forgotten and the rejection carries a
   * session-ended code. A network or server failure leaves the login as it is.
   */
  private renew(): Promise<void> {
    this.renewing ??= this.refreshTokens().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  private async refreshTokens(): Promise<void> {
    const auth = this.auth;
    if (!auth) throw this.endedBy ?? new BackendError('not_logged_in', 'Not logged in');
    const used = auth.refresh_token;
    if (!used) throw new BackendError('token_expired', 'The session has expired');
    let res: RefreshResponse;
    try {
      const body: RefreshRequest = { refresh_token: used };
      res = await this.request<RefreshResponse>('POST', '/v1/auth/refresh', body, {
        base: auth.server_url,
        auth: false,
      });
      if (typeof res?.token !== 'string' || typeof res.refresh_token !== 'string') {
        throw new BackendError('internal', 'The server sent an invalid response');
      }
    } catch (err) {
      const error = toBackendError(err);
      if (TRANSIENT_CODES.has(error.code)) throw error;
      const ended = SESSION_ENDED_CODES.has(error.code) ? error : new BackendError('token_expired', error.message);
      // Unless somebody logged out or in meanwhile.
      if (this.auth?.refresh_token === used) this.forget(ended);
      throw ended;
    }
    if (!this.auth) throw this.endedBy ?? new BackendError('not_logged_in', 'Not logged in');
    // Logged in again meanwhile: these tokens belong to a login nobody uses any more.
    if (this.auth.refresh_token !== used) return;
    this.auth = {
      ...this.auth,
      token: res.token,
      expires_at: res.expires_at,
      refresh_token: res.refresh_token,
      refresh_expires_at: res.refresh_expires_at,
    };
    this.persist();
  }

  /** True if the access token has expired or expires within `TOKEN_RENEW_MARGIN_MS`. */
  private tokenStale(): boolean {
    const expiresAt = this.auth?.expires_at;
    return typeof expiresAt === 'number' && expiresAt > 0 && expiresAt - Date.now() <= TOKEN_RENEW_MARGIN_MS;
  }

  private async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, body, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new BackendError('internal', 'The server sent an invalid response');
    }
  }

  async session(): Promise<Session | null> {
    if (!this.auth) {
      this.auth = this.loadStored();
      if (this.auth) this.endedBy = null;
    }
    if (!this.auth) return null;
    this.startEvents();
    return toSession(this.auth);
  }

  async login(serverUrl: string, email: string, password: string): Promise<Session> {
    const base = normalizeServerUrl(serverUrl);
    const res = await this.request<LoginResponse>(
      'POST',
      '/v1/auth/login',
      { email, password },
      { base, auth: false },
    );
    this.stopEvents();
    this.endedBy = null;
    this.auth = {
      server_url: base,
      token: res.token,
      expires_at: res.expires_at,
      refresh_token: res.refresh_token ?? null,
      refresh_expires_at: res.refresh_expires_at ?? null,
      agent: res.agent,
      workspace_name: res.workspace_name,
    };
    this.persist();
    this.startEvents();
    return toSession(this.auth);
  }

  /** Ends the session on the server, then forgets both tokens. */
  async logout(): Promise<void> {
    if (!this.auth) {
      // After a session ended on its own: signing out just stops saying why.
      this.endedBy = null;
      return;
    }
    try {
      await this.request<void>('POST', '/v1/auth/logout');
    } catch {
      // Signing out locally must work even if the server is unreachable.
    }
    this.forget();
  }

  async listConversations(): Promise<Conversation[]> {
    const list = await this.request<Conversation[]>('GET', '/v1/conversations');
    this.loaded = list;
    return list;
  }

  /** No local database here: searches the conversations last loaded (contact, number, labels, last message). */
  async search(query: string): Promise<SearchHit[]> {
    return searchConversations(this.loaded, query);
  }

  getThread(conversationId: number): Promise<ConversationDetail> {
    return this.request<ConversationDetail>('GET', `/v1/conversations/${conversationId}`);
  }

  /** `POST /v1/conversations/{id}/messages`, with a fresh idempotency key. */
  private postMessage(conversationId: number, fields: Record<string, unknown>, replyTo?: number | null): Promise<Message> {
    const body: Record<string, unknown> = { client_id: newClientId(), ...fields };
    if (typeof replyTo === 'number') body.reply_to = replyTo;
    return this.request<Message>('POST', `/v1/conversations/${conversationId}/messages`, body);
  }

  sendReply(conversationId: number, text: string, replyTo?: number | null): Promise<Message> {
    return this.postMessage(conversationId, { text }, replyTo);
  }

  /** Uploads the file (raw body), then sends the message that carries it. */
  async sendAttachment(
    conversationId: number,
    file: AttachmentFile,
    caption: string,
    replyTo?: number | null,
  ): Promise<Message> {
    const upload = await this.request<UploadedAttachment>(
      'POST',
      `/v1/conversations/${conversationId}/attachments`,
      undefined,
      {
        raw: {
          bytes: file.bytes,
          contentType: file.type,
          headers: { 'x-filename': encodeURIComponent(file.name) },
        },
      },
    );
    if (typeof upload?.id !== 'number') {
      throw new BackendError('internal', 'The server sent an invalid response');
    }
    return this.postMessage(conversationId, { text: caption, attachment_id: upload.id }, replyTo);
  }

  sendInteractive(conversationId: number, body: string, buttons: string[], replyTo?: number | null): Promise<Message> {
    return this.postMessage(
      conversationId,
      {
        text: body,
        interactive: { type: 'button', buttons: buttons.map((title, i) => ({ id: `btn-${i + 1}`, title })) },
      },
      replyTo,
    );
  }

  async markRead(conversationId: number): Promise<void> {
    await this.request<void>('POST', `/v1/conversations/${conversationId}/read`);
  }

  async typing(conversationId: number): Promise<void> {
    await this.request<void>('POST', `/v1/conversations/${conversationId}/typing`);
  }

  async resolve(conversationId: number, note: string | null): Promise<void> {
    await this.request<void>('POST', `/v1/conversations/${conversationId}/resolve`, { note });
  }

  templates(): Promise<Template[]> {
    return this.request<Template[]>('GET', '/v1/templates');
  }

  sendTemplate(conversationId: number, name: string, language: string, parameters: string[]): Promise<Message> {
    return this.request<Message>('POST', `/v1/conversations/${conversationId}/template`, {
      client_id: newClientId(),
      name,
      language,
      parameters,
    });
  }

  claim(conversationId: number): Promise<Conversation> {
    return this.request<Conversation>('POST', `/v1/conversations/${conversationId}/claim`);
  }

  /** Exactly one of `agent_id` / `team_id` is sent. */
  transfer(conversationId: number, agentId: number | null, teamId: number | null, note: string): Promise<Conversation> {
    const body: Record<string, unknown> = { note };
    if (agentId !== null) body.agent_id = agentId;
    else if (teamId !== null) body.team_id = teamId;
    return this.request<Conversation>('POST', `/v1/conversations/${conversationId}/transfer`, body);
  }

  /** `POST /v1/conversations/{id}/notes`, with a fresh idempotency key. */
  addNote(conversationId: number, text: string): Promise<Message> {
    return this.request<Message>('POST', `/v1/conversations/${conversationId}/notes`, {
      text,
      client_id: newClientId(),
    });
  }

  setLabels(conversationId: number, labels: string[]): Promise<Conversation> {
    return this.request<Conversation>('PUT', `/v1/conversations/${conversationId}/labels`, labels);
  }

  cannedResponses(): Promise<CannedResponse[]> {
    return this.request<CannedResponse[]>('GET', '/v1/canned-responses');
  }

  renderCanned(id: number, conversationId: number): Promise<RenderedResponse> {
    return this.request<RenderedResponse>('POST', `/v1/canned-responses/${id}/render`, {
      conversation_id: conversationId,
    });
  }

  agents(): Promise<AgentProfile[]> {
    return this.request<AgentProfile[]>('GET', '/v1/agents');
  }

  teams(): Promise<Team[]> {
    return this.request<Team[]>('GET', '/v1/teams');
  }

  /** Over REST rather than the socket: it works (and fails visibly) while the socket is down. */
  async setPresence(conversationId: number, state: PresenceState): Promise<void> {
    await this.request<void>('PUT', `/v1/conversations/${conversationId}/presence`, { state });
  }

  // ---- manager console ----------------------------------------------------

  board(): Promise<Board> {
    return this.request<Board>('GET', '/v1/board');
  }

  metrics(query: MetricsQuery): Promise<MetricsReport> {
    return this.request<MetricsReport>('GET', `/v1/metrics${metricsSearch(query)}`);
  }

  breaches(query: MetricsQuery): Promise<BreachReport> {
    return this.request<BreachReport>('GET', `/v1/metrics/breaches${metricsSearch(query)}`);
  }

  handoffTimeline(handoffId: number): Promise<TimelineEvent[]> {
    return this.request<TimelineEvent[]>('GET', `/v1/handoffs/${handoffId}/timeline`);
  }

  setPriority(conversationId: number, priority: Priority): Promise<Conversation> {
    return this.request<Conversation>('PUT', `/v1/conversations/${conversationId}/priority`, { priority });
  }

  assign(conversationId: number, agentId: number): Promise<Conversation> {
    return this.request<Conversation>('POST', `/v1/conversations/${conversationId}/assign`, { agent_id: agentId });
  }

  /** A download: the text as a Blob behind a clicked `<a download>`. Nothing says where it went: null. */
  async saveExport(fileName: string, contents: string): Promise<string | null> {
    if (typeof document === 'undefined' || typeof URL.createObjectURL !== 'function') {
      throw new BackendError('internal', 'This browser cannot download files');
    }
    const type = fileName.toLowerCase().endsWith('.csv') ? 'text/csv;charset=utf-8' : 'text/plain;charset=utf-8';
    const url = URL.createObjectURL(new Blob([contents], { type }));
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    link.rel = 'noopener';
    link.style.display = 'none';
    document.body.appendChild(link);
    try {
      link.click();
    } finally {
      link.remove();
      // After the click has started the download.
      setTimeout(() => URL.revokeObjectURL(url), 0);
    }
    return null;
  }

  /** When activity was last reported (ms since epoch), to report at most every 30 s. */
  private lastActivity = 0;

  async reportActivity(): Promise<void> {
    const now = Date.now();
    if (!this.auth || now - this.lastActivity < ACTIVITY_EVERY_MS) return;
    this.lastActivity = now;
    await this.request<void>('POST', '/v1/me/heartbeat', { active: true });
  }

  async setAvailability(availability: Availability): Promise<Agent> {
    const agent = await this.request<Agent>('PUT', '/v1/me/availability', { availability });
    if (this.auth) {
      this.auth = { ...this.auth, agent };
      this.persist();
    }
    return agent;
  }

  /** The file as an object URL; revoked when the login ends. */
  async media(messageId: number): Promise<string> {
    const res = await this.send('GET', `/v1/media/${messageId}`, undefined, { accept: '*/*' });
    let blob: Blob;
    try {
      blob = await res.blob();
    } catch (err) {
      throw new BackendError('network', err instanceof Error ? err.message : String(err));
    }
    const url = URL.createObjectURL(blob);
    this.objectUrls.add(url);
    return url;
  }

  private revokeObjectUrls(): void {
    for (const url of this.objectUrls) {
      try {
        URL.revokeObjectURL(url);
      } catch {
        // ignore
      }
    }
    this.objectUrls.clear();
  }

  // ---- outbox: none here (online only) ------------------------------------

  /** Every change goes straight to the server: nothing ever waits. */
  async outbox(): Promise<OutboxEntry[]> {
    return [];
  }

  async discardChange(_clientId: string): Promise<void> {
    throw new BackendError('not_found', 'no change waits to be sent');
  }

  async retryChange(_clientId: string): Promise<void> {
    throw new BackendError('not_found', 'no change waits to be sent');
  }

  // ---- notifications: none in the browser ---------------------------------

  async setFocus(_conversationId: number | null): Promise<void> {
    // No desktop notifications to hold back.
  }

  /** Kept in `localStorage` for parity with the desktop app (nothing to silence here). */
  async doNotDisturb(): Promise<boolean> {
    try {
      const stored = this.preferences?.getItem(DO_NOT_DISTURB_KEY);
      if (stored === '1' || stored === '0') return stored === '1';
    } catch {
      // storage disabled: the value in memory
    }
    return this.dnd;
  }

  async setDoNotDisturb(on: boolean): Promise<void> {
    this.dnd = on;
    try {
      this.preferences?.setItem(DO_NOT_DISTURB_KEY, on ? '1' : '0');
    } catch {
      // storage full or disabled: kept in memory only
    }
    for (const cb of [...this.dndListeners]) cb(on);
  }

  async onDoNotDisturb(cb: (on: boolean) => void): Promise<Unsubscribe> {
    this.dndListeners.add(cb);
    return () => this.dndListeners.delete(cb);
  }

  /** No tray here: never fires. */
  async onWaiting(_cb: (count: number) => void): Promise<Unsubscribe> {
    return () => {};
  }

  // ---- desktop only ----------------------------------------------------------

  async startAtLogin(): Promise<boolean> {
    return false;
  }

  /** A web page cannot start with the computer: stays off. */
  async setStartAtLogin(_on: boolean): Promise<boolean> {
    return false;
  }

  async openQuickReply(_conversationId: number): Promise<void> {
    // No quick-reply window in the browser.
  }

  /** Closes the window if a script opened it; browsers ignore it otherwise. */
  async closeWindow(): Promise<void> {
    if (typeof window !== 'undefined') window.close();
  }

  /** This page is the app: opens the conversation here, as a desktop notification would. */
  async showInApp(conversationId: number): Promise<void> {
    for (const cb of [...this.openListeners]) cb(conversationId);
  }

  /** The browser keeps one login per tab and no list of them. */
  async savedServers(): Promise<SavedServer[]> {
    return [];
  }

  async switchServer(_serverUrl: string, _email: string): Promise<Session> {
    throw new BackendError('not_logged_in', 'the browser keeps no other sign-ins: sign in with the password');
  }

  async forgetServer(_serverUrl: string, _email: string): Promise<void> {
    // Nothing kept to forget.
  }

  // ---- stored login -----------------------------------------------------

  private loadStored(): StoredAuth | null {
    if (!this.storage) return null;
    try {
      const raw = this.storage.getItem(SESSION_STORAGE_KEY);
      if (!raw) return null;
      const stored = JSON.parse(raw) as StoredAuth;
      if (!stored.token || !stored.server_url || !stored.agent) return null;
      const now = Date.now();
      const accessExpired = !!stored.expires_at && stored.expires_at <= now;
      // An expired access token is fine while the refresh token can renew it.
      const renewable = !!stored.refresh_token && !(stored.refresh_expires_at && stored.refresh_expires_at <= now);
      if (accessExpired && !renewable) {
        this.storage.removeItem(SESSION_STORAGE_KEY);
        return null;
      }
      return stored;
    } catch {
      return null;
    }
  }

  private persist(): void {
    if (!this.storage || !this.auth) return;
    try {
      this.storage.setItem(SESSION_STORAGE_KEY, JSON.stringify(this.auth));
    } catch {
      // storage full or disabled: the login stays in memory only
    }
  }

  /** Drops the login (both tokens); `reason`: why it ended, for later calls. */
  private forget(reason: BackendError | null = null): void {
    this.stopEvents();
    this.revokeObjectUrls();
    this.loaded = [];
    this.auth = null;
    this.endedBy = reason;
    try {
      this.storage?.removeItem(SESSION_STORAGE_KEY);
    } catch {
      // ignore
    }
  }

  // ---- events -----------------------------------------------------------

  async onChange(cb: (conversationIds: number[]) => void): Promise<Unsubscribe> {
    this.changeListeners.add(cb);
    return () => this.changeListeners.delete(cb);
  }

  async onConnection(cb: (connected: boolean) => void): Promise<Unsubscribe> {
    this.connectionListeners.add(cb);
    cb(this.connected);
    return () => this.connectionListeners.delete(cb);
  }

  /** A browser has no notifications to click; kept for interface parity. */
  async onOpenConversation(cb: (conversationId: number) => void): Promise<Unsubscribe> {
    this.openListeners.add(cb);
    return () => this.openListeners.delete(cb);
  }

  async onLive(cb: (event: LiveEvent) => void): Promise<Unsubscribe> {
    this.liveListeners.add(cb);
    return () => this.liveListeners.delete(cb);
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    for (const cb of [...this.connectionListeners]) cb(connected);
  }

  private emitChange(ids: number[]): void {
    for (const cb of [...this.changeListeners]) cb(ids);
  }

  private startEvents(): void {
    this.wantEvents = true;
    if (!this.socket && !this.reconnectTimer && !this.connecting) this.connect();
  }

  private stopEvents(): void {
    this.wantEvents = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      try {
        socket.close();
      } catch {
        // ignore
      }
    }
    this.attempt = 0;
    this.cursor = null;
    this.setConnected(false);
  }

  /** Opens the event stream, renewing the access token first if it is (nearly) expired. */
  private connect(): void {
    if (!this.wantEvents || !this.auth) return;
    if (!this.auth.refresh_token || !this.tokenStale()) {
      this.openSocket();
      return;
    }
    this.connecting = true;
    this.renew().then(
      () => {
        this.connecting = false;
        if (!this.socket && !this.reconnectTimer) this.openSocket();
      },
      () => {
        this.connecting = false;
        if (this.auth) {
          // Could not reach the server: try again later.
          this.scheduleReconnect();
        } else if (this.endedBy) {
          // The login ended: ask for a reload, so the UI finds out and says why.
          this.emitChange([]);
        }
      },
    );
  }

  private openSocket(): void {
    const WS = this.options.webSocket ?? globalThis.WebSocket;
    if (!this.wantEvents || !this.auth || typeof WS !== 'function') return;
    let socket: WebSocket;
    try {
      socket = new WS(eventsUrl(this.auth.server_url, this.auth.token));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onmessage = (ev: MessageEvent) => {
      if (this.socket !== socket) return;
      let data: unknown;
      try {
        data = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const frame = data as EventFrame | null;
      if (frame?.type === 'hello') {
        this.attempt = 0;
        this.setConnected(true);
        // After a (re)connect we may have missed pokes: reload if the cursor moved.
        if (this.cursor !== frame.cursor) this.emitChange([]);
        this.cursor = frame.cursor;
      } else if (frame?.type === 'poke') {
        this.cursor = frame.cursor;
        this.emitChange([]);
      } else {
        const event = parseLiveEvent(data);
        if (event) for (const cb of [...this.liveListeners]) cb(event);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setConnected(false);
      this.scheduleReconnect();
    };
    // An error is always followed by close.
    socket.onerror = () => {};
  }

  private scheduleReconnect(): void {
    if (!this.wantEvents || this.reconnectTimer) return;
    const initial = this.options.reconnectInitialMs ?? 1000;
    const max = this.options.reconnectMaxMs ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }
}
