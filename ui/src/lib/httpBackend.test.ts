import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DO_NOT_DISTURB_KEY,
  HttpBackend,
  SESSION_STORAGE_KEY,
  eventsUrl,
  newClientId,
  normalizeServerUrl,
} from './httpBackend';
import { BackendError } from './errors';
import {
  NOW,
  agent,
  board,
  breachReport,
  canned,
  colleagues,
  conversation,
  detail,
  message,
  metricsReport,
  team,
  timelineEvent,
} from '../test/fixtures';

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

  it('search matches the loaded conversations client-side (accents, prefixes, every word), no request', async () => {
    await loggedIn();
    await expect(backend.search('maria')).resolves.toEqual([]);
    const list = [
      conversation({
        id: 2,
        contact: { id: 2, wa_id: '4915112345678', bsuid: null, name: 'Zoë Çelik' },
        labels: ['Billing'],
        last_message_preview: 'Where is my refund?',
      }),
      conversation({ id: 1 }),
    ];
    fetchMock.mockResolvedValueOnce(json(list));
    await backend.listConversations();
    fetchMock.mockClear();

    await expect(backend.search('zoe CEL')).resolves.toEqual([
      { conversation_id: 2, message_id: null, snippet: '[Zoë] [Çelik]' },
    ]);
    await expect(backend.search('bill refun')).resolves.toEqual([
      { conversation_id: 2, message_id: null, snippet: '[Billing] · Where is my [refund]?' },
    ]);
    await expect(backend.search('49151')).resolves.toEqual([
      { conversation_id: 2, message_id: null, snippet: '[4915112345678]' },
    ]);
    await expect(backend.search('maría person')).resolves.toEqual([
      { conversation_id: 1, message_id: null, snippet: '[Maria] Lopez · I want to talk to a [person]' },
    ]);
    await expect(backend.search('zoe person')).resolves.toEqual([]);
    expect(fetchMock).not.toHaveBeenCalled();

    await backend.logout();
    await expect(backend.search('zoe')).resolves.toEqual([]);
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

  it('reportActivity POSTs an active heartbeat at most every 30 s', async () => {
    await loggedIn();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-11-23T10:00:00Z'));
      const before = fetchMock.mock.calls.length;
      fetchMock.mockResolvedValue(new Response(null, { status: 204 }));
      await backend.reportActivity();
      expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/me/heartbeat`, method: 'POST', body: { active: true } });
      await backend.reportActivity();
      vi.setSystemTime(new Date('2026-11-23T10:00:29Z'));
      await backend.reportActivity();
      expect(fetchMock.mock.calls.length - before).toBe(1);
      vi.setSystemTime(new Date('2026-11-23T10:00:31Z'));
      await backend.reportActivity();
      expect(fetchMock.mock.calls.length - before).toBe(2);
    } finally {
      vi.useRealTimers();
    }
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

  it('claim POSTs /v1/conversations/{id}/claim and returns the conversation', async () => {
    await loggedIn();
    const mine = conversation({ id: 9, state: 'assigned', assignee_id: agent.id });
    fetchMock.mockResolvedValueOnce(json(mine));
    await expect(backend.claim(9)).resolves.toEqual(mine);
    const req = lastRequest();
    expect(req).toMatchObject({ url: `${BASE}/v1/conversations/9/claim`, method: 'POST', body: undefined });
    expect(req.headers.Authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('claim refused with already_claimed keeps the owner', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(
      json({ code: 'already_claimed', message: 'taken', details: { owner: { id: 8, name: 'Maya Ruiz' } } }, 409),
    );
    await expect(backend.claim(9)).rejects.toMatchObject({
      code: 'already_claimed',
      details: { owner: { id: 8, name: 'Maya Ruiz' } },
    });
  });

  it('transfer POSTs {agent_id, note} or {team_id, note}: exactly one target', async () => {
    await loggedIn();
    const moved = conversation({ id: 9, assignee_id: 8 });
    fetchMock.mockImplementation(async () => json(moved));
    await expect(backend.transfer(9, 8, null, 'Refund approved')).resolves.toEqual(moved);
    expect(lastRequest()).toMatchObject({
      url: `${BASE}/v1/conversations/9/transfer`,
      method: 'POST',
      body: { agent_id: 8, note: 'Refund approved' },
    });
    expect(lastRequest().body).not.toHaveProperty('team_id');
    await backend.transfer(9, null, 2, 'For billing');
    expect(lastRequest().body).toEqual({ team_id: 2, note: 'For billing' });
  });

  describe('manager console', () => {
    const DAY = 86_400_000;

    it('board GETs /v1/board with the bearer token', async () => {
      await loggedIn();
      const b = board();
      fetchMock.mockResolvedValueOnce(json(b));
      await expect(backend.board()).resolves.toEqual(b);
      expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/board`, method: 'GET', body: undefined });
      expect(lastRequest().headers.Authorization).toBe(`Bearer ${TOKEN}`);
    });

    it('metrics GETs /v1/metrics with from and to, and only the filters that are set', async () => {
      await loggedIn();
      const report = metricsReport();
      fetchMock.mockImplementation(async () => json(report));
      await expect(backend.metrics({ from: NOW - DAY, to: NOW })).resolves.toEqual(report);
      expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/metrics?from=${NOW - DAY}&to=${NOW}`, method: 'GET' });

      await backend.metrics({
        from: NOW - 7 * DAY,
        to: NOW,
        bucket_ms: DAY,
        team_id: 2,
        agent_id: null,
        priority: 'high',
        trigger: 'keyword',
        business_hours: true,
      });
      const url = new URL(lastRequest().url);
      expect(url.pathname).toBe('/v1/metrics');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        from: String(NOW - 7 * DAY),
        to: String(NOW),
        bucket_ms: String(DAY),
        team_id: '2',
        priority: 'high',
        trigger: 'keyword',
        business_hours: 'true',
      });

      // business_hours off: left out.
      await backend.metrics({ from: 1, to: 2, business_hours: false });
      expect(new URL(lastRequest().url).searchParams.has('business_hours')).toBe(false);
    });

    it('breaches GETs /v1/metrics/breaches with the same parameters', async () => {
      await loggedIn();
      const report = breachReport();
      fetchMock.mockResolvedValueOnce(json(report));
      await expect(backend.breaches({ from: 10, to: 20, agent_id: 8 })).resolves.toEqual(report);
      expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/metrics/breaches?from=10&to=20&agent_id=8`, method: 'GET' });
    });

    it('handoffTimeline GETs /v1/handoffs/{id}/timeline', async () => {
      await loggedIn();
      const events = [timelineEvent(), timelineEvent({ kind: 'assigned', actor: 'Ben Okafor' })];
      fetchMock.mockResolvedValueOnce(json(events));
      await expect(backend.handoffTimeline(101)).resolves.toEqual(events);
      expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/handoffs/101/timeline`, method: 'GET' });
    });

    it('setPriority PUTs {priority} to /priority', async () => {
      await loggedIn();
      const changed = conversation({ id: 4, priority: 'urgent' });
      fetchMock.mockResolvedValueOnce(json(changed));
      await expect(backend.setPriority(4, 'urgent')).resolves.toEqual(changed);
      expect(lastRequest()).toMatchObject({
        url: `${BASE}/v1/conversations/4/priority`,
        method: 'PUT',
        body: { priority: 'urgent' },
      });
    });

    it('assign POSTs {agent_id} to /assign; a refusal keeps its code', async () => {
      await loggedIn();
      const assigned = conversation({ id: 4, assignee_id: 8 });
      fetchMock.mockResolvedValueOnce(json(assigned));
      await expect(backend.assign(4, 8)).resolves.toEqual(assigned);
      expect(lastRequest()).toMatchObject({
        url: `${BASE}/v1/conversations/4/assign`,
        method: 'POST',
        body: { agent_id: 8 },
      });
      fetchMock.mockResolvedValueOnce(json({ code: 'forbidden', message: 'managers only' }, 403));
      await expect(backend.assign(4, 8)).rejects.toMatchObject({ code: 'forbidden' });
    });

    it('saveExport downloads the text through a clicked <a download> and returns null', async () => {
      let blob: Blob | null = null;
      const create = vi.fn((b: Blob) => {
        blob = b;
        return 'blob:export-1';
      });
      const revoke = vi.fn();
      vi.stubGlobal('URL', Object.assign(class extends URL {}, { createObjectURL: create, revokeObjectURL: revoke }));
      const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
      await expect(backend.saveExport('queue.csv', 'a,b\r\n1,2\r\n')).resolves.toBeNull();
      expect(click).toHaveBeenCalledTimes(1);
      const clicked = click.mock.contexts[0] as HTMLAnchorElement;
      expect(clicked.download).toBe('queue.csv');
      expect(clicked.href).toBe('blob:export-1');
      expect(clicked.isConnected).toBe(false);
      expect(blob!.type).toBe('text/csv;charset=utf-8');
      // Revoked once the download has started.
      expect(revoke).not.toHaveBeenCalled();
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(revoke).toHaveBeenCalledWith('blob:export-1');
      const text = await new Promise<string>((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result));
        reader.readAsText(blob!);
      });
      expect(text).toBe('a,b\r\n1,2\r\n');
      // Needs no server.
      expect(fetchMock).not.toHaveBeenCalled();
    });
  });

  it('addNote POSTs {text, client_id} to /notes with a fresh UUID', async () => {
    await loggedIn();
    const note = message({ direction: 'note', author: 'agent', kind: 'note', text: '@maya see above' });
    fetchMock.mockResolvedValueOnce(json(note, 201));
    await expect(backend.addNote(9, '@maya see above')).resolves.toEqual(note);
    const req = lastRequest();
    expect(req).toMatchObject({ url: `${BASE}/v1/conversations/9/notes`, method: 'POST' });
    expect(req.body.text).toBe('@maya see above');
    expect(req.body.client_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('setLabels PUTs the labels as a JSON array', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json(conversation({ id: 9, labels: ['vip'] })));
    await expect(backend.setLabels(9, ['vip'])).resolves.toMatchObject({ labels: ['vip'] });
    expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/conversations/9/labels`, method: 'PUT', body: ['vip'] });
    fetchMock.mockResolvedValueOnce(json(conversation({ id: 9, labels: [] })));
    await backend.setLabels(9, []);
    expect(lastRequest().body).toEqual([]);
  });

  it('cannedResponses, agents and teams GET their lists', async () => {
    await loggedIn();
    fetchMock
      .mockResolvedValueOnce(json([canned()]))
      .mockResolvedValueOnce(json(colleagues))
      .mockResolvedValueOnce(json([team()]));
    await expect(backend.cannedResponses()).resolves.toEqual([canned()]);
    expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/canned-responses`, method: 'GET' });
    await expect(backend.agents()).resolves.toEqual(colleagues);
    expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/agents`, method: 'GET' });
    await expect(backend.teams()).resolves.toEqual([team()]);
    expect(lastRequest()).toMatchObject({ url: `${BASE}/v1/teams`, method: 'GET' });
  });

  it('renderCanned POSTs {conversation_id} to /canned-responses/{id}/render', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(json({ text: 'Hi Maria', missing: [] }));
    await expect(backend.renderCanned(5, 9)).resolves.toEqual({ text: 'Hi Maria', missing: [] });
    expect(lastRequest()).toMatchObject({
      url: `${BASE}/v1/canned-responses/5/render`,
      method: 'POST',
      body: { conversation_id: 9 },
    });
  });

  it('setPresence PUTs {state} and accepts 204', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await expect(backend.setPresence(9, 'draft')).resolves.toBeUndefined();
    expect(lastRequest()).toMatchObject({
      url: `${BASE}/v1/conversations/9/presence`,
      method: 'PUT',
      body: { state: 'draft' },
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

  describe('token renewal', () => {
    const REFRESH = 'ref-1';
    const refreshing = {
      ...loginBody,
      refresh_token: REFRESH,
      refresh_expires_at: Date.now() + 30 * 86_400_000,
      session_id: 3,
    };

    function expired(): Response {
      return new Response(JSON.stringify({ code: 'token_expired', message: 'this session has expired; log in again' }), {
        status: 401,
        headers: { 'Content-Type': 'application/json', 'x-handoff-error': 'token_expired' },
      });
    }

    function renewed(n: number) {
      return {
        token: `tok-new-${n}`,
        expires_at: Date.now() + 900_000,
        refresh_token: `ref-${n + 1}`,
        refresh_expires_at: Date.now() + 86_400_000,
      };
    }

    async function loggedInWithRefresh(body: object = refreshing) {
      fetchMock.mockResolvedValueOnce(json(body));
      await backend.login(BASE, 'ana@example.com', 'secret');
      fetchMock.mockClear();
    }

    function calls() {
      return (fetchMock.mock.calls as [string, RequestInit][]).map(([url, init]) => ({
        path: url.slice(BASE.length),
        auth: (init.headers as Record<string, string>).Authorization,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      }));
    }

    /** A login saved by an earlier page whose access token has expired. */
    function storeExpired(refreshExpiresAt: number) {
      sessionStorage.setItem(
        SESSION_STORAGE_KEY,
        JSON.stringify({
          server_url: BASE,
          token: 'old',
          expires_at: Date.now() - 1000,
          refresh_token: REFRESH,
          refresh_expires_at: refreshExpiresAt,
          agent,
          workspace_name: 'Acme Support',
        }),
      );
    }

    function stored() {
      return JSON.parse(sessionStorage.getItem(SESSION_STORAGE_KEY) ?? 'null');
    }

    it('login keeps the refresh token alongside the access token', async () => {
      await loggedInWithRefresh();
      expect(stored()).toMatchObject({ token: TOKEN, refresh_token: REFRESH, refresh_expires_at: refreshing.refresh_expires_at });
    });

    it('renews an expired access token once and retries the request with the new one', async () => {
      await loggedInWithRefresh();
      const list = [conversation()];
      fetchMock
        .mockResolvedValueOnce(expired())
        .mockResolvedValueOnce(json(renewed(1)))
        .mockResolvedValueOnce(json(list));
      await expect(backend.listConversations()).resolves.toEqual(list);
      expect(calls()).toEqual([
        { path: '/v1/conversations', auth: `Bearer ${TOKEN}`, body: undefined },
        { path: '/v1/auth/refresh', auth: undefined, body: { refresh_token: REFRESH } },
        { path: '/v1/conversations', auth: 'Bearer tok-new-1', body: undefined },
      ]);
      expect(stored()).toMatchObject({ token: 'tok-new-1', refresh_token: 'ref-2' });

      // The next renewal spends the new refresh token (each works once).
      fetchMock.mockClear();
      fetchMock
        .mockResolvedValueOnce(expired())
        .mockResolvedValueOnce(json(renewed(2)))
        .mockResolvedValueOnce(json(list));
      await backend.listConversations();
      expect(calls()[1]).toEqual({ path: '/v1/auth/refresh', auth: undefined, body: { refresh_token: 'ref-2' } });
      expect(calls()[2].auth).toBe('Bearer tok-new-2');
    });

    it('resends a message with the same client_id after renewing', async () => {
      await loggedInWithRefresh();
      const m = message({ direction: 'outbound', author: 'agent', status: 'queued', text: 'Hi' });
      fetchMock.mockResolvedValueOnce(expired()).mockResolvedValueOnce(json(renewed(1))).mockResolvedValueOnce(json(m, 201));
      await expect(backend.sendReply(9, 'Hi')).resolves.toEqual(m);
      const [first, , retry] = calls();
      expect(retry.body).toEqual(first.body);
    });

    it('the x-handoff-error header is enough to recognise an expired token', async () => {
      await loggedInWithRefresh();
      fetchMock
        .mockResolvedValueOnce(new Response('expired', { status: 401, headers: { 'x-handoff-error': 'token_expired' } }))
        .mockResolvedValueOnce(json(renewed(1)))
        .mockResolvedValueOnce(json([]));
      await expect(backend.listConversations()).resolves.toEqual([]);
      expect(calls().map((c) => c.path)).toEqual(['/v1/conversations', '/v1/auth/refresh', '/v1/conversations']);
    });

    it('parallel calls that find the token expired share a single refresh', async () => {
      await loggedInWithRefresh();
      const thread = detail();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      fetchMock.mockImplementation(async (url: string, init: RequestInit) => {
        if (url.endsWith('/v1/auth/refresh')) {
          await gate;
          return json(renewed(1));
        }
        if ((init.headers as Record<string, string>).Authorization !== 'Bearer tok-new-1') return expired();
        if (url.endsWith('/v1/conversations')) return json([]);
        if (url.endsWith('/v1/templates')) return json([]);
        return json(thread);
      });
      const all = Promise.all([backend.listConversations(), backend.getThread(1), backend.templates()]);
      await vi.waitFor(() => expect(calls().filter((c) => c.path === '/v1/auth/refresh')).toHaveLength(1));
      release();
      await expect(all).resolves.toEqual([[], thread, []]);

      const refreshes = calls().filter((c) => c.path === '/v1/auth/refresh');
      expect(refreshes).toEqual([{ path: '/v1/auth/refresh', auth: undefined, body: { refresh_token: REFRESH } }]);
      // Each call went out twice: once with the expired token, once with the new one.
      const retried = calls().filter((c) => c.auth === 'Bearer tok-new-1');
      expect(retried.map((c) => c.path).sort()).toEqual(['/v1/conversations', '/v1/conversations/1', '/v1/templates']);
      expect(calls()).toHaveLength(7);
    });

    it('a call made while a refresh is in flight waits for it instead of sending the old token', async () => {
      await loggedInWithRefresh();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      fetchMock.mockImplementation(async (url: string, init: RequestInit) => {
        if (url.endsWith('/v1/auth/refresh')) {
          await gate;
          return json(renewed(1));
        }
        return (init.headers as Record<string, string>).Authorization === 'Bearer tok-new-1' ? json([]) : expired();
      });
      const first = backend.listConversations();
      await vi.waitFor(() => expect(calls().some((c) => c.path === '/v1/auth/refresh')).toBe(true));
      const second = backend.templates();
      release();
      await expect(Promise.all([first, second])).resolves.toEqual([[], []]);
      expect(calls().filter((c) => c.path === '/v1/templates')).toEqual([
        { path: '/v1/templates', auth: 'Bearer tok-new-1', body: undefined },
      ]);
    });

    it('a refused refresh ends the session', async () => {
      await loggedInWithRefresh();
      const socket = FakeSocket.instances[0];
      fetchMock.mockResolvedValueOnce(expired()).mockResolvedValueOnce(
        new Response(JSON.stringify({ code: 'token_revoked', message: 'this refresh token was already used' }), {
          status: 401,
          headers: { 'Content-Type': 'application/json', 'x-handoff-error': 'token_revoked' },
        }),
      );
      const err = await backend.listConversations().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect(err).toMatchObject({ code: 'token_revoked' });
      expect(calls().map((c) => c.path)).toEqual(['/v1/conversations', '/v1/auth/refresh']);
      expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
      expect(socket.closed).toBe(true);
      // Later calls say why, without another request.
      fetchMock.mockClear();
      await expect(backend.templates()).rejects.toMatchObject({ code: 'token_revoked' });
      expect(fetchMock).not.toHaveBeenCalled();
      await expect(backend.session()).resolves.toBeNull();
    });

    it('a refresh refused with a code that is no session code still ends the session as expired', async () => {
      await loggedInWithRefresh();
      fetchMock.mockResolvedValueOnce(expired()).mockResolvedValueOnce(json({ code: 'invalid_input', message: 'bad' }, 400));
      await expect(backend.listConversations()).rejects.toMatchObject({ code: 'token_expired' });
      expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    });

    it('renews only once per call: a second token_expired ends the session', async () => {
      await loggedInWithRefresh();
      fetchMock.mockResolvedValueOnce(expired()).mockResolvedValueOnce(json(renewed(1))).mockResolvedValueOnce(expired());
      await expect(backend.listConversations()).rejects.toMatchObject({ code: 'token_expired' });
      expect(calls().map((c) => c.path)).toEqual(['/v1/conversations', '/v1/auth/refresh', '/v1/conversations']);
      expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    });

    it('a refresh that cannot reach the server keeps the login for the next try', async () => {
      await loggedInWithRefresh();
      fetchMock.mockResolvedValueOnce(expired()).mockRejectedValueOnce(new TypeError('Failed to fetch'));
      await expect(backend.listConversations()).rejects.toMatchObject({ code: 'network' });
      expect(stored()).toMatchObject({ token: TOKEN, refresh_token: REFRESH });

      fetchMock.mockResolvedValueOnce(expired()).mockResolvedValueOnce(json(renewed(1))).mockResolvedValueOnce(json([]));
      await expect(backend.listConversations()).resolves.toEqual([]);
    });

    it('renews a token about to expire before opening the event stream', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      fetchMock.mockImplementation(async () => {
        await gate;
        return json(renewed(1));
      });
      fetchMock.mockResolvedValueOnce(json({ ...refreshing, expires_at: Date.now() + 20_000 }));
      await backend.login(BASE, 'ana@example.com', 'secret');
      // Not connected with the old token.
      expect(FakeSocket.instances).toHaveLength(0);
      release();
      await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
      expect(FakeSocket.instances[0].url).toBe('ws://127.0.0.1:8080/v1/events?access_token=tok-new-1');
      expect(calls().map((c) => c.path)).toEqual(['/v1/auth/login', '/v1/auth/refresh']);
      expect(calls()[1]).toEqual({ path: '/v1/auth/refresh', auth: undefined, body: { refresh_token: REFRESH } });
    });

    it('renews before reconnecting the event stream once the token has expired', async () => {
      vi.useFakeTimers();
      backend = new HttpBackend({ webSocket: FakeSocket as unknown as typeof WebSocket, reconnectInitialMs: 100 });
      await loggedInWithRefresh({ ...refreshing, expires_at: Date.now() + 60_000 });
      expect(FakeSocket.instances[0].url).toContain(`access_token=${TOKEN}`);

      vi.advanceTimersByTime(45_000); // now 15 s before expiry
      fetchMock.mockResolvedValueOnce(json(renewed(1)));
      FakeSocket.instances[0].drop();
      await vi.advanceTimersByTimeAsync(100);
      expect(calls().map((c) => c.path)).toEqual(['/v1/auth/refresh']);
      expect(FakeSocket.instances).toHaveLength(2);
      expect(FakeSocket.instances[1].url).toContain('access_token=tok-new-1');
    });

    it('a fresh token connects the event stream without renewing', async () => {
      await loggedInWithRefresh();
      expect(FakeSocket.instances).toHaveLength(1);
      expect(fetchMock).not.toHaveBeenCalled();
    });

    it('when renewing for the event stream is refused, the session ends and the UI is told to reload', async () => {
      const changes = vi.fn();
      await backend.onChange(changes);
      fetchMock.mockImplementation(async (url: string) =>
        url.endsWith('/v1/auth/refresh')
          ? json({ code: 'token_revoked', message: 'revoked' }, 401)
          : json({ ...refreshing, expires_at: Date.now() - 1 }),
      );
      await backend.login(BASE, 'ana@example.com', 'secret');
      await vi.waitFor(() => expect(changes).toHaveBeenCalledWith([]));
      expect(FakeSocket.instances).toHaveLength(0);
      expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
      await expect(backend.listConversations()).rejects.toMatchObject({ code: 'token_revoked' });
    });

    it('session() restores a login whose access token expired while its refresh token is valid', async () => {
      storeExpired(Date.now() + 86_400_000);
      fetchMock.mockResolvedValueOnce(json(renewed(1)));
      await expect(backend.session()).resolves.toEqual({ server_url: BASE, agent, workspace_name: 'Acme Support' });
      await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
      expect(FakeSocket.instances[0].url).toContain('access_token=tok-new-1');
    });

    it('session() drops a stored login whose refresh token has expired too', async () => {
      storeExpired(Date.now() - 1);
      await expect(backend.session()).resolves.toBeNull();
      expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    });

    it('logout forgets both tokens', async () => {
      await loggedInWithRefresh();
      fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
      await backend.logout();
      expect(calls()).toEqual([{ path: '/v1/auth/logout', auth: `Bearer ${TOKEN}`, body: undefined }]);
      expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull();
      fetchMock.mockClear();
      await expect(backend.listConversations()).rejects.toMatchObject({ code: 'not_logged_in' });
      expect(fetchMock).not.toHaveBeenCalled();
      await expect(new HttpBackend({ storage: sessionStorage }).session()).resolves.toBeNull();
    });
  });

  it('error details are kept, and a 429 maps to rate_limited with Retry-After', async () => {
    fetchMock.mockResolvedValueOnce(
      json({ code: 'rate_limited', message: 'too many failed logins; try again in 42 s', details: { retry_after_secs: 42 } }, 429),
    );
    await expect(backend.login(BASE, 'a@b.c', 'x')).rejects.toMatchObject({
      code: 'rate_limited',
      details: { retry_after_secs: 42 },
    });
    fetchMock.mockResolvedValueOnce(new Response('slow down', { status: 429, headers: { 'Retry-After': '7' } }));
    await expect(backend.login(BASE, 'a@b.c', 'x')).rejects.toMatchObject({
      code: 'rate_limited',
      details: { retry_after_secs: 7 },
    });
  });

  it('the x-handoff-error header gives the code when the body has none', async () => {
    await loggedIn();
    fetchMock.mockResolvedValueOnce(new Response('', { status: 409, headers: { 'x-handoff-error': 'already_claimed' } }));
    await expect(backend.listConversations()).rejects.toMatchObject({ code: 'already_claimed' });
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

  it('presence and mentioned frames go to onLive listeners, not onChange', async () => {
    const live = vi.fn();
    const changes = vi.fn();
    const unsubscribe = await backend.onLive(live);
    await backend.onChange(changes);
    await loggedIn();
    const socket = FakeSocket.instances[0];
    socket.receive({ type: 'hello', cursor: 5 });
    changes.mockClear();

    const presence = { type: 'presence', conversation_id: 3, agent_id: 8, agent_name: 'Maya Ruiz', state: 'viewing' };
    const mention = { type: 'mentioned', conversation_id: 3, message_id: 77, by_name: 'Ben Okafor' };
    socket.receive(presence);
    socket.receive(mention);
    socket.receive({ type: 'something_new', conversation_id: 3 });
    socket.receive({ type: 'presence', conversation_id: 3, agent_id: 8, state: 'moonwalking' });
    socket.onmessage?.(new MessageEvent('message', { data: 'null' }));
    expect(live.mock.calls).toEqual([[presence], [mention]]);
    expect(changes).not.toHaveBeenCalled();

    unsubscribe();
    socket.receive(presence);
    expect(live).toHaveBeenCalledTimes(2);
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

describe('HttpBackend: desktop-only features in the browser', () => {
  let fetchMock: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const make = () => new HttpBackend({ storage: null, webSocket: FakeSocket as unknown as typeof WebSocket });

  it('is not the desktop app', () => {
    expect(make().desktop).toBe(false);
  });

  it('has no outbox: every change goes straight to the server', async () => {
    const backend = make();
    await expect(backend.outbox()).resolves.toEqual([]);
    const discard = await backend.discardChange('c-1').catch((e: unknown) => e);
    expect(discard).toBeInstanceOf(BackendError);
    expect(discard).toMatchObject({ code: 'not_found' });
    await expect(backend.retryChange('c-1')).rejects.toMatchObject({ code: 'not_found' });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('setFocus does nothing (no desktop notifications)', async () => {
    await expect(make().setFocus(3)).resolves.toBeUndefined();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('keeps do not disturb in localStorage, across instances, and tells its listeners', async () => {
    const backend = make();
    await expect(backend.doNotDisturb()).resolves.toBe(false);
    const cb = vi.fn();
    const unsubscribe = await backend.onDoNotDisturb(cb);
    await backend.setDoNotDisturb(true);
    expect(localStorage.getItem(DO_NOT_DISTURB_KEY)).toBe('1');
    await expect(backend.doNotDisturb()).resolves.toBe(true);
    await expect(make().doNotDisturb()).resolves.toBe(true);
    unsubscribe();
    await backend.setDoNotDisturb(false);
    expect(cb.mock.calls).toEqual([[true]]);
    await expect(make().doNotDisturb()).resolves.toBe(false);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('keeps do not disturb in memory without storage', async () => {
    const backend = new HttpBackend({ storage: null, preferences: null });
    await backend.setDoNotDisturb(true);
    await expect(backend.doNotDisturb()).resolves.toBe(true);
    expect(localStorage.getItem(DO_NOT_DISTURB_KEY)).toBeNull();
  });

  it('cannot start at login: always off', async () => {
    const backend = make();
    await expect(backend.startAtLogin()).resolves.toBe(false);
    await expect(backend.setStartAtLogin(true)).resolves.toBe(false);
  });

  it('keeps no saved sign-ins: none listed, switching needs the password', async () => {
    const backend = make();
    await expect(backend.savedServers()).resolves.toEqual([]);
    await expect(backend.switchServer(BASE, 'ana@example.com')).rejects.toMatchObject({ code: 'not_logged_in' });
    await expect(backend.forgetServer(BASE, 'ana@example.com')).resolves.toBeUndefined();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('showInApp opens the conversation in this page; openQuickReply opens nothing', async () => {
    const backend = make();
    const cb = vi.fn();
    await backend.onOpenConversation(cb);
    await backend.openQuickReply(5);
    expect(cb).not.toHaveBeenCalled();
    await backend.showInApp(5);
    expect(cb).toHaveBeenCalledWith(5);
  });

  it('onWaiting never fires, and unsubscribes cleanly', async () => {
    const unsubscribe = await make().onWaiting(vi.fn());
    expect(() => unsubscribe()).not.toThrow();
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
