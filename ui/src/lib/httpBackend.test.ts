import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpBackend, SESSION_STORAGE_KEY, eventsUrl, newClientId, normalizeServerUrl } from './httpBackend';
import { BackendError } from './errors';
import { agent, conversation, detail, message } from '../test/fixtures';

const BASE = 'http://127.0.0.1:8080';
const TOKEN = 'tok-123';

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const loginBody = {
  token: TOKEN,
  expires_at: Date.now() + 3_600_000,
  agent,
  workspace_name: 'Acme Support',
};

/** Minimal WebSocket stand-in the backend can drive. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  url: string;
  closed = false;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  constructor(url: string) {
    this.url = url;
    FakeSocket.instances.push(this);
  }
  close() {
    this.closed = true;
  }
  receive(frame: unknown) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(frame) }));
  }
  drop() {
    this.onclose?.(new CloseEvent('close'));
  }
}

describe('HttpBackend', () => {
  let fetchMock: ReturnType<typeof vi.fn>;
  let backend: HttpBackend;

  beforeEach(() => {
    FakeSocket.instances = [];
    sessionStorage.clear();
    fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    backend = new HttpBackend({ webSocket: FakeSocket as unknown as typeof WebSocket });
  });

  afterEach(async () => {
    await backend.logout().catch(() => {});
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  async function loggedIn() {
    fetchMock.mockResolvedValueOnce(json(loginBody));
    await backend.login(BASE, 'ana@example.com', 'secret');
    fetchMock.mockClear();
  }

  function lastRequest() {
    const [url, init] = fetchMock.mock.calls[fetchMock.mock.calls.length - 1] as [string, RequestInit];
    return {
      url,
      method: init.method,
      headers: init.headers as Record<string, string>,
      body: init.body === undefined ? undefined : JSON.parse(init.body as string),
    };
  }

  it('login POSTs credentials without a token and returns the session', async () => {
    fetchMock.mockResolvedValueOnce(json(loginBody));
    const s = await backend.login('http://127.0.0.1:8080/', 'ana@example.com', 'secret');
    expect(s).toEqual({ server_url: BASE, agent, workspace_name: 'Acme Support' });
    const req = lastRequest();
    expect(req.url).toBe(`${BASE}/v1/auth/login`);
    expect(req.method).toBe('POST');
    expect(req.headers['Content-Type']).toBe('application/json');
    expect(req.headers.Authorization).toBeUndefined();
    expect(req.body).toEqual({ email: 'ana@example.com', password: 'secret' });
  });

  it('invalid credentials map to BackendError(invalid_credentials)', async () => {
    fetchMock.mockResolvedValueOnce(json({ code: 'invalid_credentials', message: 'bad login' }, 401));
    const err = await backend.login(BASE, 'a@b.c', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'invalid_credentials', message: 'bad login' });
  });

  it('a fetch network failure becomes code `network`', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    await expect(backend.login(BASE, 'a@b.c', 'x')).rejects.toMatchObject({
      code: 'network',
      message: 'Failed to fetch',
    });
  });

  it('a non-JSON error body falls back to a code from the HTTP status', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(new Response('<html>bad gateway</html>', { status: 502 }));
    await expect(backend.listConversations()).rejects.toMatchObject({ code: 'upstream' });
  });

  it('listConversations GETs with the bearer token', async () => {
    await loggedIn();
    const list = [conversation({ id: 2 }), conversation({ id: 1 })];
    fetchMock.mockResolvedValueOnce(json(list));
    await expect(backend.listConversations()).resolves.toEqual(list);
    const req = lastRequest();
    expect(req.url).toBe(`${BASE}/v1/conversations`);
    expect(req.method).toBe('GET');
    expect(req.headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body).toBeUndefined();
  });

  it('media GETs /v1/media/{id} with the bearer token and returns an object URL, revoked on logout', async () => {
    await loggedIn();
    const createObjectURL = vi.fn((_blob: Blob) => 'blob:http://localhost/1234');
    const revokeObjectURL = vi.fn();
    vi.stubGlobal('URL', Object.assign(class extends URL {}, { createObjectURL, revokeObjectURL }));
    fetchMock.mockResolvedValueOnce(new Response('PNG', { status: 200, headers: { 'Content-Type': 'image/png' } }));
    await expect(backend.media(42)).resolves.toBe('blob:http://localhost/1234');
    const req = lastRequest();
    expect(req.url).toBe(`${BASE}/v1/media/42`);
    expect(req.method).toBe('GET');
    expect(req.headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    const blob = createObjectURL.mock.calls[0][0];
    expect(blob.type).toBe('image/png');
    expect(await blob.text()).toBe('PNG');

    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await backend.logout();
    expect(revokeObjectURL).toHaveBeenCalledWith('blob:http://localhost/1234');
  });

  it('media errors map to BackendError by the {code, message} body', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json({ code: 'not_found', message: 'no such media' }, 404));
    const err = await backend.media(7).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no such media' });
  });

  it('getThread GETs /v1/conversations/{id}', async () => {
    await loggedIn();
    const d = detail();
    fetchMock.mockResolvedValueOnce(json(d));
    await expect(backend.getThread(1)).resolves.toEqual(d);
    expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/conversations/1`, method: 'GET' });
  });

  it('sendReply POSTs {client_id, text} with a fresh UUID', async () => {
    await loggedIn();
    const m = message({ direction: 'outbound', author: 'agent', status: 'queued', text: 'Hello' });
    fetchMock.mockResolvedValueOnce(json(m, 201));
    await expect(backend.sendReply(9, 'Hello')).resolves.toEqual(m);
    const req = lastRequest();
    expect(req.url).toBe(`${BASE}/v1/conversations/9/messages`);
    expect(req.method).toBe('POST');
    expect(req.headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body.text).toBe('Hello');
    expect(req.body.client_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sendReply with replyTo adds reply_to; without it the body has none', async () => {
    await loggedIn();
    fetchMock.mockImplementation(async () => json(message({ direction: 'outbound', author: 'agent', status: 'queued' }), 201));
    await backend.sendReply(9, 'Yes, that one', 41);
    expect(lastRequest().body).toEqual({ client_id: expect.any(String), text: 'Yes, that one', reply_to: 41 });
    await backend.sendReply(9, 'Plain', null);
    expect(lastRequest().body).toEqual({ client_id: expect.any(String), text: 'Plain' });
  });

  it('sendAttachment uploads the raw bytes, then sends the message with attachment_id', async () => {
    await loggedIn();
    const upload = { id: 55, kind: 'image', mime_type: 'image/png', filename: 'rečeipt #1.png', size: 3, sha256: 'ab12' };
    const sent = message({ direction: 'outbound', author: 'agent', status: 'queued', kind: 'image' });
    fetchMock.mockResolvedValueOnce(json(upload, 201)).mockResolvedValueOnce(json(sent, 201));
    const bytes = new Uint8Array([0x89, 0x50, 0x4e]);

    await expect(
      backend.sendAttachment(9, { name: 'rečeipt #1.png', type: 'image/png', bytes }, 'Your receipt', 41),
    ).resolves.toEqual(sent);

    expect(fetchMock).toHaveBeenCalledTimes(2);
    const [uploadUrl, uploadInit] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(uploadUrl).toBe(`${BASE}/v1/conversations/9/attachments`);
    expect(uploadInit.method).toBe('POST');
    const headers = uploadInit.headers as Record<string, string>;
    expect(headers['Content-Type']).toBe('image/png');
    expect(headers['x-filename']).toBe('re%C4%8Deipt%20%231.png');
    expect(decodeURIComponent(headers['x-filename'])).toBe('rečeipt #1.png');
    expect(headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(uploadInit.body).toBe(bytes);

    const req = lastRequest();
    expect(req.url).toBe(`${BASE}/v1/conversations/9/messages`);
    expect(req.method).toBe('POST');
    expect(req.headers['Content-Type']).toBe('application/json');
    expect(req.headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body).toEqual({ client_id: expect.any(String), text: 'Your receipt', attachment_id: 55, reply_to: 41 });
  });

  it('sendAttachment without a reply sends no reply_to; an empty caption is sent as ""', async () => {
    await loggedIn();
    const upload = { id: 56, kind: 'document', mime_type: 'application/pdf', filename: 'a.pdf', size: 1, sha256: 'cd' };
    fetchMock.mockResolvedValueOnce(json(upload, 201)).mockResolvedValueOnce(json(message(), 201));
    await backend.sendAttachment(9, { name: 'a.pdf', type: 'application/pdf', bytes: new Uint8Array([1]) }, '');
    expect(lastRequest().body).toEqual({ client_id: expect.any(String), text: '', attachment_id: 56 });
  });

  it('a refused upload rejects with its code and sends no message', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json({ code: 'unsupported_media_type', message: 'image/gif' }, 415));
    const file = { name: 'a.gif', type: 'image/gif', bytes: new Uint8Array([1]) };
    await expect(backend.sendAttachment(9, file, '')).rejects.toMatchObject({ code: 'unsupported_media_type' });
    expect(fetchMock).toHaveBeenCalledTimes(1);

    // A 415 without a JSON body still maps to the code.
    fetchMock.mockResolvedValueOnce(new Response('nope', { status: 415 }));
    await expect(backend.sendAttachment(9, file, '')).rejects.toMatchObject({ code: 'unsupported_media_type' });
  });

  it('sendInteractive POSTs the body as text with reply buttons btn-1.., and reply_to when quoting', async () => {
    await loggedIn();
    fetchMock.mockImplementation(async () => json(message({ direction: 'outbound', author: 'agent', kind: 'interactive' }), 201));
    await backend.sendInteractive(9, 'Did this help?', ['Yes', 'No'], 41);
    const req = lastRequest();
    expect(req.url).toBe(`${BASE}/v1/conversations/9/messages`);
    expect(req.method).toBe('POST');
    expect(req.body).toEqual({
      client_id: expect.any(String),
      text: 'Did this help?',
      interactive: {
        type: 'button',
        buttons: [
          { id: 'btn-1', title: 'Yes' },
          { id: 'btn-2', title: 'No' },
        ],
      },
      reply_to: 41,
    });
    await backend.sendInteractive(9, 'Pick one', ['A']);
    expect(lastRequest().body).not.toHaveProperty('reply_to');
  });

  it('sendReply maps not_assignee', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json({ code: 'not_assignee', message: 'assigned to 9' }, 403));
    await expect(backend.sendReply(9, 'x')).rejects.toMatchObject({ code: 'not_assignee' });
  });

  it('templates GETs /v1/templates with the bearer token', async () => {
    await loggedIn();
    const list = [
      {
        name: 'order_update',
        language: 'en_US',
        status: 'APPROVED',
        category: 'UTILITY',
        quality: null,
        components: [{ type: 'BODY', text: 'Hi {{1}}' }],
        rejection_reason: null,
        updated_at: 1,
      },
    ];
    fetchMock.mockResolvedValueOnce(json(list));
    await expect(backend.templates()).resolves.toEqual(list);
    const req = lastRequest();
    expect(req).toMatchObject({ url: `${BASE}/v1/templates`, method: 'GET', body: undefined });
    expect(req.headers.Authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('sendTemplate POSTs {client_id, name, language, parameters}', async () => {
    await loggedIn();
    const m = message({ direction: 'outbound', author: 'agent', status: 'queued', kind: 'template' });
    fetchMock.mockResolvedValueOnce(json(m, 201));
    await expect(backend.sendTemplate(9, 'order_update', 'en_US', ['Maria', '#88'])).resolves.toEqual(m);
    const req = lastRequest();
    expect(req.url).toBe(`${BASE}/v1/conversations/9/template`);
    expect(req.method).toBe('POST');
    expect(req.headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body).toMatchObject({ name: 'order_update', language: 'en_US', parameters: ['Maria', '#88'] });
    expect(req.body.client_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it.each([
    ['template_not_approved', 422],
    ['marketing_opt_out', 403],
    ['window_closed', 422],
  ] as const)('sendTemplate maps %s', async (code, status) => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json({ code, message: 'no' }, status));
    await expect(backend.sendTemplate(9, 'promo', 'en_US', [])).rejects.toMatchObject({ code });
  });

  it('resolve POSTs {note} and accepts 204', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await expect(backend.resolve(9, null)).resolves.toBeUndefined();
    expect(lastRequest()).toMatchObject({
      url: `${BASE}/v1/conversations/9/resolve`,
      method: 'POST',
      body: { note: null },
    });
  });

  it('setAvailability PUTs {availability}', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json({ ...agent, availability: 'away' }));
    await expect(backend.setAvailability('away')).resolves.toMatchObject({ availability: 'away' });
    expect(lastRequest()).toMatchObject({
      url: `${BASE}/v1/me/availability`,
      method: 'PUT',
      body: { availability: 'away' },
    });
  });

  it('logout POSTs /v1/auth/logout with the token and forgets the login', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await backend.logout();
    expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/auth/logout`, method: 'POST' });
    expect(lastRequest().headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    await expect(backend.listConversations()).rejects.toMatchObject({ code: 'not_logged_in' });
  });

  it('session() restores the login from sessionStorage only (not localStorage)', async () => {
    await loggedIn();
    expect(localStorage.length).toBe(0);
    const again = new HttpBackend({ webSocket: FakeSocket as unknown as typeof WebSocket });
    await expect(again.session()).resolves.toEqual({ server_url: BASE, agent, workspace_name: 'Acme Support' });
    fetchMock.mockResolvedValueOnce(json([]));
    await again.listConversations();
    expect(lastRequest().headers.Authorization).toBe(`Bearer ${TOKEN}`);
    await again.logout();
  });

  it('session() is null with storage disabled or when nothing is saved', async () => {
    await expect(new HttpBackend({ storage: null }).session()).resolves.toBeNull();
    await expect(backend.session()).resolves.toBeNull();
  });

  it('an expired token error ends the stored session', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json({ code: 'token_expired', message: 'expired' }, 401));
    await expect(backend.listConversations()).rejects.toMatchObject({ code: 'token_expired' });
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('opens the event socket with the token; hello -> connected, poke -> onChange([])', async () => {
    const changes = vi.fn();
    const connection = vi.fn();
    await backend.onChange(changes);
    await backend.onConnection(connection);
    expect(connection).toHaveBeenLastCalledWith(false);

    await loggedIn();
    expect(FakeSocket.instances).toHaveLength(1);
    const socket = FakeSocket.instances[0];
    expect(socket.url).toBe(`ws://127.0.0.1:8080/v1/events?access_token=${TOKEN}`);

    socket.receive({ type: 'hello', cursor: 5 });
    expect(connection).toHaveBeenLastCalledWith(true);
    changes.mockClear();

    socket.receive({ type: 'poke', cursor: 6 });
    expect(changes).toHaveBeenCalledWith([]);
  });

  it('reconnects with backoff after the socket drops and reports disconnection', async () => {
    vi.useFakeTimers();
    backend = new HttpBackend({
      webSocket: FakeSocket as unknown as typeof WebSocket,
      reconnectInitialMs: 100,
      reconnectMaxMs: 1000,
    });
    const connection = vi.fn();
    const changes = vi.fn();
    await backend.onConnection(connection);
    await backend.onChange(changes);
    await loggedIn();
    FakeSocket.instances[0].receive({ type: 'hello', cursor: 1 });
    expect(connection).toHaveBeenLastCalledWith(true);

    FakeSocket.instances[0].drop();
    expect(connection).toHaveBeenLastCalledWith(false);
    vi.advanceTimersByTime(99);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);

    // second failure waits twice as long
    FakeSocket.instances[1].drop();
    vi.advanceTimersByTime(199);
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);

    // a hello with a moved cursor means we missed changes: reload
    changes.mockClear();
    FakeSocket.instances[2].receive({ type: 'hello', cursor: 4 });
    expect(connection).toHaveBeenLastCalledWith(true);
    expect(changes).toHaveBeenCalledWith([]);
  });

  it('logout closes the socket and stops reconnecting', async () => {
    vi.useFakeTimers();
    await loggedIn();
    const socket = FakeSocket.instances[0];
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await backend.logout();
    expect(socket.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe('helpers', () => {
  it('normalizeServerUrl adds a scheme and strips trailing slashes', () => {
    expect(normalizeServerUrl(' 127.0.0.1:8080/ ')).toBe('http://127.0.0.1:8080');
    expect(normalizeServerUrl('https://handoff.example.com/api/')).toBe('https://handoff.example.com/api');
    expect(() => normalizeServerUrl('ftp://x')).toThrow(BackendError);
  });

  it('eventsUrl switches to ws/wss and adds the token', () => {
    expect(eventsUrl('https://h.example.com', 'a b')).toBe('wss://h.example.com/v1/events?access_token=a+b');
    expect(eventsUrl('http://127.0.0.1:8080', 't')).toBe('ws://127.0.0.1:8080/v1/events?access_token=t');
  });

  it('newClientId falls back to getRandomValues without randomUUID', () => {
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: (b: Uint8Array) => real.getRandomValues(b) });
    try {
      expect(newClientId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
