import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { TauriBackend } from './tauriBackend';
import { BackendError } from './errors';
import {
  agent,
  board,
  breachReport,
  canned,
  colleagues,
  conversation,
  detail,
  message,
  metricsReport,
  outboxEntry,
  savedServer,
  session,
  team,
  timelineEvent,
} from '../test/fixtures';

type Call = { cmd: string; args: Record<string, unknown> | undefined };

describe('TauriBackend', () => {
  let calls: Call[];
  let replies: Record<string, unknown>;
  let backend: TauriBackend;

  beforeEach(() => {
    calls = [];
    replies = {};
    mockIPC(
      (cmd, args) => {
        if (cmd.startsWith('plugin:event|')) return undefined;
        calls.push({ cmd, args: args as Record<string, unknown> | undefined });
        const reply = replies[cmd];
        if (reply instanceof Error) throw reply;
        if (typeof reply === 'object' && reply !== null && 'reject' in reply) {
          return Promise.reject((reply as { reject: unknown }).reject);
        }
        return reply ?? null;
      },
      { shouldMockEvents: true },
    );
    backend = new TauriBackend();
  });

  afterEach(() => {
    clearMocks();
  });

  const appCalls = () => calls.filter((c) => !c.cmd.startsWith('plugin:'));

  it('session() calls `session` and returns null when logged out', async () => {
    replies.session = null;
    await expect(backend.session()).resolves.toBeNull();
    expect(appCalls()).toEqual([{ cmd: 'session', args: {} }]);
  });

  it('session() returns the saved session', async () => {
    replies.session = session;
    await expect(backend.session()).resolves.toEqual(session);
  });

  it('login passes serverUrl, email and password', async () => {
    replies.login = session;
    const s = await backend.login('http://127.0.0.1:8080', 'ana@example.com', 'pw');
    expect(s).toEqual(session);
    expect(appCalls()).toEqual([
      { cmd: 'login', args: { serverUrl: 'http://127.0.0.1:8080', email: 'ana@example.com', password: 'pw' } },
    ]);
  });

  it('search invokes `search` with {query} and returns the hits', async () => {
    const hits = [
      { conversation_id: 2, message_id: 41, snippet: 'my [refund] please' },
      { conversation_id: 3, message_id: null, snippet: '[Refund]' },
    ];
    replies.search = hits;
    await expect(backend.search('refund')).resolves.toEqual(hits);
    expect(appCalls()).toEqual([{ cmd: 'search', args: { query: 'refund' } }]);
  });

  it('search rejects with a BackendError', async () => {
    replies.search = { reject: { code: 'internal', message: 'fts broke' } };
    await expect(backend.search('x')).rejects.toMatchObject({ code: 'internal' });
  });

  it('logout calls `logout`', async () => {
    await backend.logout();
    expect(appCalls().map((c) => c.cmd)).toEqual(['logout']);
  });

  it('listConversations calls `list_conversations`', async () => {
    const list = [conversation({ id: 2 }), conversation({ id: 1 })];
    replies.list_conversations = list;
    await expect(backend.listConversations()).resolves.toEqual(list);
    expect(appCalls()[0].cmd).toBe('list_conversations');
  });

  it('getThread passes conversationId', async () => {
    const d = detail();
    replies.get_thread = d;
    await expect(backend.getThread(1)).resolves.toEqual(d);
    expect(appCalls()).toEqual([{ cmd: 'get_thread', args: { conversationId: 1 } }]);
  });

  it('media invokes `media` with messageId and returns the data URL', async () => {
    replies.media = 'data:image/jpeg;base64,/9j/4AAQ';
    await expect(backend.media(42)).resolves.toBe('data:image/jpeg;base64,/9j/4AAQ');
    expect(appCalls()).toEqual([{ cmd: 'media', args: { messageId: 42 } }]);
  });

  it('media rejections become BackendErrors', async () => {
    replies.media = { reject: { code: 'not_found', message: 'no file' } };
    await expect(backend.media(1)).rejects.toMatchObject({ code: 'not_found', message: 'no file' });
  });

  it('sendReply passes conversationId, text and replyTo (null when not quoting) and returns the pending message', async () => {
    const pending = message({ id: -1, direction: 'outbound', author: 'agent', status: 'queued', text: 'hi' });
    replies.send_reply = pending;
    await expect(backend.sendReply(3, 'hi')).resolves.toEqual(pending);
    await backend.sendReply(3, 'quoting', 41);
    await backend.sendReply(3, 'explicitly not', null);
    expect(appCalls()).toEqual([
      { cmd: 'send_reply', args: { conversationId: 3, text: 'hi', replyTo: null } },
      { cmd: 'send_reply', args: { conversationId: 3, text: 'quoting', replyTo: 41 } },
      { cmd: 'send_reply', args: { conversationId: 3, text: 'explicitly not', replyTo: null } },
    ]);
  });

  it('sendAttachment passes the file as base64 with its name, type, caption and replyTo', async () => {
    const pending = message({ id: -1, direction: 'outbound', author: 'agent', status: 'queued', kind: 'image' });
    replies.send_attachment = pending;
    const bytes = new TextEncoder().encode('hello, world');
    await expect(
      backend.sendAttachment(3, { name: 'receipt.png', type: 'image/png', bytes }, 'Your receipt', 41),
    ).resolves.toEqual(pending);
    await backend.sendAttachment(3, { name: 'a.pdf', type: 'application/pdf', bytes: new Uint8Array([0xff]) }, '');
    expect(appCalls()).toEqual([
      {
        cmd: 'send_attachment',
        args: {
          conversationId: 3,
          filename: 'receipt.png',
          mimeType: 'image/png',
          dataBase64: 'aGVsbG8sIHdvcmxk',
          caption: 'Your receipt',
          replyTo: 41,
        },
      },
      {
        cmd: 'send_attachment',
        args: { conversationId: 3, filename: 'a.pdf', mimeType: 'application/pdf', dataBase64: '/w==', caption: '', replyTo: null },
      },
    ]);
  });

  it('sendAttachment encodes a 20 MB file without overflowing the stack', async () => {
    const bytes = new Uint8Array(20 * 1024 * 1024 + 1);
    for (let i = 0; i < bytes.length; i += 4099) bytes[i] = i & 0xff;
    await backend.sendAttachment(3, { name: 'big.mp4', type: 'video/mp4', bytes }, '');
    const sent = appCalls()[0].args!.dataBase64 as string;
    expect(sent).toBe(Buffer.from(bytes).toString('base64'));
  });

  it('rejections keep their details', async () => {
    replies.login = { reject: { code: 'rate_limited', message: 'slow down', details: { retry_after_secs: 12 } } };
    const err = await backend.login('http://127.0.0.1:8080', 'a@b.c', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'rate_limited', details: { retry_after_secs: 12 } });
  });

  it('sendAttachment rejections keep their code', async () => {
    replies.send_attachment = { reject: { code: 'unsupported_media_type', message: 'image/gif' } };
    const file = { name: 'a.gif', type: 'image/gif', bytes: new Uint8Array([1]) };
    await expect(backend.sendAttachment(3, file, '')).rejects.toMatchObject({ code: 'unsupported_media_type' });
  });

  it('sendInteractive passes conversationId, body, buttons and replyTo', async () => {
    const pending = message({ id: -1, direction: 'outbound', author: 'agent', status: 'queued', kind: 'interactive' });
    replies.send_interactive = pending;
    await expect(backend.sendInteractive(3, 'Which one?', ['Yes', 'No'])).resolves.toEqual(pending);
    await backend.sendInteractive(3, 'Which one?', ['Yes'], 41);
    expect(appCalls()).toEqual([
      { cmd: 'send_interactive', args: { conversationId: 3, body: 'Which one?', buttons: ['Yes', 'No'], replyTo: null } },
      { cmd: 'send_interactive', args: { conversationId: 3, body: 'Which one?', buttons: ['Yes'], replyTo: 41 } },
    ]);
  });

  it('templates calls `templates`', async () => {
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
    replies.templates = list;
    await expect(backend.templates()).resolves.toEqual(list);
    expect(appCalls()).toEqual([{ cmd: 'templates', args: {} }]);
  });

  it('sendTemplate passes conversationId, name, language and parameters', async () => {
    const pending = message({ id: -1, direction: 'outbound', author: 'agent', status: 'queued', kind: 'template' });
    replies.send_template = pending;
    await expect(backend.sendTemplate(3, 'order_update', 'en_US', ['Maria', '#88'])).resolves.toEqual(pending);
    expect(appCalls()).toEqual([
      {
        cmd: 'send_template',
        args: { conversationId: 3, name: 'order_update', language: 'en_US', parameters: ['Maria', '#88'] },
      },
    ]);
  });

  it('sendTemplate rejections keep their code', async () => {
    replies.send_template = { reject: { code: 'marketing_opt_out', message: 'opted out' } };
    await expect(backend.sendTemplate(3, 'promo', 'en_US', [])).rejects.toMatchObject({ code: 'marketing_opt_out' });
  });

  it('resolve passes conversationId and note (null allowed)', async () => {
    await backend.resolve(3, 'done');
    await backend.resolve(4, null);
    expect(appCalls()).toEqual([
      { cmd: 'resolve', args: { conversationId: 3, note: 'done' } },
      { cmd: 'resolve', args: { conversationId: 4, note: null } },
    ]);
  });

  it('setAvailability passes availability and returns the agent', async () => {
    replies.set_availability = { ...agent, availability: 'away' };
    await expect(backend.setAvailability('away')).resolves.toMatchObject({ availability: 'away' });
    expect(appCalls()).toEqual([{ cmd: 'set_availability', args: { availability: 'away' } }]);
  });

  it('reportActivity calls report_activity (inbox-core throttles)', async () => {
    replies.report_activity = null;
    await backend.reportActivity();
    expect(appCalls()).toEqual([{ cmd: 'report_activity', args: {} }]);
  });

  it('a rejected invoke {code, message} becomes a BackendError with that code', async () => {
    replies.send_reply = { reject: { code: 'not_assignee', message: 'conversation 3 is assigned to agent 9' } };
    const err = await backend.sendReply(3, 'hi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'not_assignee', message: 'conversation 3 is assigned to agent 9' });
  });

  it('an unknown error code or a plain string becomes `internal`', async () => {
    replies.list_conversations = { reject: { code: 'weird', message: 'x' } };
    await expect(backend.listConversations()).rejects.toMatchObject({ code: 'internal', message: 'x' });
    replies.logout = { reject: 'boom' };
    await expect(backend.logout()).rejects.toMatchObject({ code: 'internal', message: 'boom' });
  });

  it('onChange delivers conversation_ids from inbox://changed and unsubscribes', async () => {
    const cb = vi.fn();
    const unlisten = await backend.onChange(cb);
    await emit('inbox://changed', { conversation_ids: [4, 5] });
    expect(cb).toHaveBeenCalledWith([4, 5]);
    unlisten();
    await emit('inbox://changed', { conversation_ids: [6] });
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it('onConnection delivers connected from inbox://connection', async () => {
    const cb = vi.fn();
    await backend.onConnection(cb);
    await emit('inbox://connection', { connected: true });
    await emit('inbox://connection', { connected: false });
    expect(cb.mock.calls).toEqual([[true], [false]]);
  });

  it('onConnection reports the state the stream already had when subscribing', async () => {
    replies.connection_status = true;
    const cb = vi.fn();
    await backend.onConnection(cb);
    expect(appCalls().map((c) => c.cmd)).toEqual(['connection_status']);
    await emit('inbox://connection', { connected: false });
    expect(cb.mock.calls).toEqual([[true], [false]]);
  });

  it('onOpenConversation delivers conversation_id from inbox://open-conversation', async () => {
    const cb = vi.fn();
    await backend.onOpenConversation(cb);
    await emit('inbox://open-conversation', { conversation_id: 42 });
    expect(cb).toHaveBeenCalledWith(42);
  });

  it('markRead and typing call their commands with the conversation id', async () => {
    await backend.markRead(12);
    await backend.typing(12);
    expect(appCalls()).toEqual([
      { cmd: 'mark_read', args: { conversationId: 12 } },
      { cmd: 'typing', args: { conversationId: 12 } },
    ]);
  });

  it('claim passes conversationId and returns the conversation', async () => {
    const mine = conversation({ id: 3, state: 'assigned', assignee_id: agent.id });
    replies.claim = mine;
    await expect(backend.claim(3)).resolves.toEqual(mine);
    expect(appCalls()).toEqual([{ cmd: 'claim', args: { conversationId: 3 } }]);
  });

  it('claim refused as already_claimed keeps the owner in details', async () => {
    replies.claim = {
      reject: { code: 'already_claimed', message: 'taken', details: { owner: { id: 8, name: 'Maya Ruiz' } } },
    };
    const err = await backend.claim(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'already_claimed', details: { owner: { id: 8, name: 'Maya Ruiz' } } });
  });

  it('transfer passes conversationId, agentId, teamId (one of them null) and note', async () => {
    const moved = conversation({ id: 3, assignee_id: 8 });
    replies.transfer = moved;
    await expect(backend.transfer(3, 8, null, 'Refund approved')).resolves.toEqual(moved);
    await backend.transfer(3, null, 2, 'For billing');
    expect(appCalls()).toEqual([
      { cmd: 'transfer', args: { conversationId: 3, agentId: 8, teamId: null, note: 'Refund approved' } },
      { cmd: 'transfer', args: { conversationId: 3, agentId: null, teamId: 2, note: 'For billing' } },
    ]);
  });

  describe('manager console', () => {
    it('board calls `board`', async () => {
      const b = board();
      replies.board = b;
      await expect(backend.board()).resolves.toEqual(b);
      expect(appCalls()).toEqual([{ cmd: 'board', args: {} }]);
    });

    it('metrics and breaches pass {query} in the Rust shape: snake_case, every field present', async () => {
      replies.metrics = metricsReport();
      replies.breaches = breachReport();
      await expect(backend.metrics({ from: 10, to: 20, team_id: 2, business_hours: true })).resolves.toEqual(metricsReport());
      await expect(backend.breaches({ from: 10, to: 20, priority: 'urgent', trigger: 'lead', bucket_ms: 3_600_000 })).resolves.toEqual(
        breachReport(),
      );
      expect(appCalls()).toEqual([
        {
          cmd: 'metrics',
          args: {
            query: { from: 10, to: 20, bucket_ms: null, team_id: 2, agent_id: null, priority: null, trigger: null, business_hours: true },
          },
        },
        {
          cmd: 'breaches',
          args: {
            query: {
              from: 10,
              to: 20,
              bucket_ms: 3_600_000,
              team_id: null,
              agent_id: null,
              priority: 'urgent',
              trigger: 'lead',
              business_hours: false,
            },
          },
        },
      ]);
    });

    it('handoffTimeline calls `handoff_timeline` with handoffId', async () => {
      const events = [timelineEvent()];
      replies.handoff_timeline = events;
      await expect(backend.handoffTimeline(101)).resolves.toEqual(events);
      expect(appCalls()).toEqual([{ cmd: 'handoff_timeline', args: { handoffId: 101 } }]);
    });

    it('setPriority and assign pass conversationId with priority / agentId', async () => {
      replies.set_priority = conversation({ id: 4, priority: 'high' });
      replies.assign = conversation({ id: 4, assignee_id: 9 });
      await expect(backend.setPriority(4, 'high')).resolves.toMatchObject({ priority: 'high' });
      await expect(backend.assign(4, 9)).resolves.toMatchObject({ assignee_id: 9 });
      expect(appCalls()).toEqual([
        { cmd: 'set_priority', args: { conversationId: 4, priority: 'high' } },
        { cmd: 'assign', args: { conversationId: 4, agentId: 9 } },
      ]);
    });

    it('assign refusals keep their code', async () => {
      replies.assign = { reject: { code: 'forbidden', message: 'managers only' } };
      await expect(backend.assign(4, 9)).rejects.toMatchObject({ code: 'forbidden' });
    });

    it('saveExport calls `save_export` with fileName and contents and returns the saved path', async () => {
      replies.save_export = '/home/ben/Downloads/queue.csv';
      await expect(backend.saveExport('queue.csv', 'a,b\r\n')).resolves.toBe('/home/ben/Downloads/queue.csv');
      expect(appCalls()).toEqual([{ cmd: 'save_export', args: { fileName: 'queue.csv', contents: 'a,b\r\n' } }]);
      // Cancelled in the save dialog: no path.
      replies.save_export = null;
      await expect(backend.saveExport('queue.csv', '')).resolves.toBeNull();
    });
  });

  it('addNote calls add_note with conversationId and text and returns the note', async () => {
    const note = message({ direction: 'note', author: 'agent', kind: 'note', text: '@maya can you check?' });
    replies.add_note = note;
    await expect(backend.addNote(3, '@maya can you check?')).resolves.toEqual(note);
    expect(appCalls()).toEqual([{ cmd: 'add_note', args: { conversationId: 3, text: '@maya can you check?' } }]);
  });

  it('setLabels calls set_labels with conversationId and labels', async () => {
    replies.set_labels = conversation({ id: 3, labels: ['vip', 'refund'] });
    await expect(backend.setLabels(3, ['vip', 'refund'])).resolves.toMatchObject({ labels: ['vip', 'refund'] });
    expect(appCalls()).toEqual([{ cmd: 'set_labels', args: { conversationId: 3, labels: ['vip', 'refund'] } }]);
  });

  it('cannedResponses, agents and teams call their commands without arguments', async () => {
    replies.canned_responses = [canned()];
    replies.agents = colleagues;
    replies.teams = [team()];
    await expect(backend.cannedResponses()).resolves.toEqual([canned()]);
    await expect(backend.agents()).resolves.toEqual(colleagues);
    await expect(backend.teams()).resolves.toEqual([team()]);
    expect(appCalls()).toEqual([
      { cmd: 'canned_responses', args: {} },
      { cmd: 'agents', args: {} },
      { cmd: 'teams', args: {} },
    ]);
  });

  it('renderCanned passes id and conversationId and returns {text, missing}', async () => {
    replies.render_canned = { text: 'Hi Maria, order ', missing: ['contact.order'] };
    await expect(backend.renderCanned(5, 3)).resolves.toEqual({ text: 'Hi Maria, order ', missing: ['contact.order'] });
    expect(appCalls()).toEqual([{ cmd: 'render_canned', args: { id: 5, conversationId: 3 } }]);
  });

  it('setPresence passes conversationId and state', async () => {
    await backend.setPresence(3, 'typing');
    await backend.setPresence(3, 'left');
    expect(appCalls()).toEqual([
      { cmd: 'set_presence', args: { conversationId: 3, state: 'typing' } },
      { cmd: 'set_presence', args: { conversationId: 3, state: 'left' } },
    ]);
  });

  it('onLive delivers presence and mentions from the `live` event, ignores the rest, and unsubscribes', async () => {
    const cb = vi.fn();
    const unlisten = await backend.onLive(cb);
    const presence = { type: 'presence', conversation_id: 3, agent_id: 8, agent_name: 'Maya Ruiz', state: 'typing' };
    const mention = { type: 'mentioned', conversation_id: 3, message_id: 77, by_name: 'Ben Okafor' };
    await emit('live', presence);
    await emit('live', mention);
    await emit('live', { type: 'poke', cursor: 3 });
    await emit('live', { type: 'presence', conversation_id: 3 });
    expect(cb.mock.calls).toEqual([[presence], [mention]]);
    unlisten();
    await emit('live', presence);
    expect(cb).toHaveBeenCalledTimes(2);
  });

  it('says it is the desktop app', () => {
    expect(backend.desktop).toBe(true);
  });

  describe('outbox', () => {
    it('outbox calls `outbox` and returns the waiting and refused changes', async () => {
      const entries = [
        outboxEntry({ kind: 'claim' }),
        outboxEntry({
          kind: 'transfer',
          text: 'For billing',
          payload: { agent_id: null, team_id: 2 },
          state: 'failed',
          error: { code: 'not_assignee', message: 'no longer yours' },
        }),
      ];
      replies.outbox = entries;
      await expect(backend.outbox()).resolves.toEqual(entries);
      expect(appCalls()).toEqual([{ cmd: 'outbox', args: {} }]);
    });

    it('discardChange and retryChange pass clientId', async () => {
      await backend.discardChange('c-1');
      await backend.retryChange('c-2');
      expect(appCalls()).toEqual([
        { cmd: 'discard_change', args: { clientId: 'c-1' } },
        { cmd: 'retry_change', args: { clientId: 'c-2' } },
      ]);
    });

    it('retryChange rejections keep their code', async () => {
      replies.retry_change = { reject: { code: 'not_found', message: 'nothing to retry' } };
      const err = await backend.retryChange('gone').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect(err).toMatchObject({ code: 'not_found' });
    });

    it('pending_changes, in_progress and already_applied are known codes', async () => {
      replies.login = { reject: { code: 'pending_changes', message: '3 changes wait' } };
      replies.claim = { reject: { code: 'in_progress', message: 'running' } };
      replies.add_note = { reject: { code: 'already_applied', message: 'done before' } };
      await expect(backend.login('http://h:1', 'a@b.c', 'pw')).rejects.toMatchObject({ code: 'pending_changes' });
      await expect(backend.claim(3)).rejects.toMatchObject({ code: 'in_progress' });
      await expect(backend.addNote(3, 'x')).rejects.toMatchObject({ code: 'already_applied' });
    });
  });

  describe('notifications', () => {
    it('setFocus passes the conversation on screen, or null', async () => {
      await backend.setFocus(12);
      await backend.setFocus(null);
      expect(appCalls()).toEqual([
        { cmd: 'set_focus', args: { conversationId: 12 } },
        { cmd: 'set_focus', args: { conversationId: null } },
      ]);
    });

    it('doNotDisturb and setDoNotDisturb call their commands', async () => {
      replies.do_not_disturb = true;
      await expect(backend.doNotDisturb()).resolves.toBe(true);
      await backend.setDoNotDisturb(false);
      expect(appCalls()).toEqual([
        { cmd: 'do_not_disturb', args: {} },
        { cmd: 'set_do_not_disturb', args: { on: false } },
      ]);
    });

    it('onDoNotDisturb delivers {on} from inbox://do-not-disturb (the tray) and unsubscribes', async () => {
      const cb = vi.fn();
      const unlisten = await backend.onDoNotDisturb(cb);
      await emit('inbox://do-not-disturb', { on: true });
      await emit('inbox://do-not-disturb', { on: 'yes' });
      await emit('inbox://do-not-disturb', { on: false });
      expect(cb.mock.calls).toEqual([[true], [false]]);
      unlisten();
      await emit('inbox://do-not-disturb', { on: true });
      expect(cb).toHaveBeenCalledTimes(2);
    });

    it('onWaiting delivers {count} from inbox://waiting', async () => {
      const cb = vi.fn();
      await backend.onWaiting(cb);
      await emit('inbox://waiting', { count: 3 });
      await emit('inbox://waiting', {});
      await emit('inbox://waiting', { count: 0 });
      expect(cb.mock.calls).toEqual([[3], [0]]);
    });
  });

  describe('desktop app', () => {
    it('startAtLogin and setStartAtLogin (which returns the new state)', async () => {
      replies.start_at_login = false;
      await expect(backend.startAtLogin()).resolves.toBe(false);
      replies.set_start_at_login = true;
      await expect(backend.setStartAtLogin(true)).resolves.toBe(true);
      expect(appCalls()).toEqual([
        { cmd: 'start_at_login', args: {} },
        { cmd: 'set_start_at_login', args: { on: true } },
      ]);
    });

    it('setStartAtLogin rejections become BackendErrors', async () => {
      replies.set_start_at_login = { reject: { code: 'internal', message: 'start at login: denied' } };
      await expect(backend.setStartAtLogin(true)).rejects.toMatchObject({ code: 'internal' });
    });

    it('openQuickReply passes conversationId; closeWindow takes no arguments', async () => {
      await backend.openQuickReply(42);
      await backend.closeWindow();
      expect(appCalls()).toEqual([
        { cmd: 'open_quick_reply', args: { conversationId: 42 } },
        { cmd: 'close_window', args: {} },
      ]);
    });

    it('showInApp asks the desktop to bring the main window forward on the conversation', async () => {
      await backend.showInApp(42);
      expect(appCalls()).toEqual([{ cmd: 'show_conversation', args: { conversationId: 42 } }]);
    });
  });

  describe('saved sign-ins', () => {
    it('savedServers calls `saved_servers`', async () => {
      const list = [savedServer(), savedServer({ server_url: 'https://eu.example.com', current: false, signed_in: false })];
      replies.saved_servers = list;
      await expect(backend.savedServers()).resolves.toEqual(list);
      expect(appCalls()).toEqual([{ cmd: 'saved_servers', args: {} }]);
    });

    it('switchServer passes serverUrl and email and returns the session', async () => {
      replies.switch_server = session;
      await expect(backend.switchServer('https://eu.example.com', 'ana@example.com')).resolves.toEqual(session);
      expect(appCalls()).toEqual([
        { cmd: 'switch_server', args: { serverUrl: 'https://eu.example.com', email: 'ana@example.com' } },
      ]);
    });

    it('switchServer refusals keep their code (not_logged_in, pending_changes)', async () => {
      replies.switch_server = { reject: { code: 'not_logged_in', message: 'sign in again' } };
      await expect(backend.switchServer('https://eu.example.com', 'a@b.c')).rejects.toMatchObject({
        code: 'not_logged_in',
      });
      replies.switch_server = { reject: { code: 'pending_changes', message: '2 changes wait' } };
      await expect(backend.switchServer('https://eu.example.com', 'a@b.c')).rejects.toMatchObject({
        code: 'pending_changes',
      });
    });

    it('forgetServer passes serverUrl and email', async () => {
      await backend.forgetServer('https://eu.example.com', 'ana@example.com');
      expect(appCalls()).toEqual([
        { cmd: 'forget_server', args: { serverUrl: 'https://eu.example.com', email: 'ana@example.com' } },
      ]);
    });
  });
});
