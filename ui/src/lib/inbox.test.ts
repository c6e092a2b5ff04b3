import { describe, expect, it, vi } from 'vitest';
import { Inbox } from './inbox.svelte';
import { ListState } from './listState.svelte';
import { BackendError } from './errors';
import { FakeBackend } from '../test/fakeBackend';
import { agent, colleagues, conversation, detail, outboxEntry, savedServer, session } from '../test/fixtures';

async function signedIn() {
  const backend = new FakeBackend({
    details: [detail({ conversation: conversation({ id: 1 }) }), detail({ conversation: conversation({ id: 2 }) })],
    agents: colleagues,
  });
  const inbox = new Inbox(backend);
  await inbox.start();
  return { backend, inbox };
}

describe('Inbox: live events', () => {
  it('keeps colleagues’ presence per conversation, one entry per colleague', async () => {
    const { backend, inbox } = await signedIn();
    backend.emitLive({ type: 'presence', conversation_id: 1, agent_id: 8, agent_name: 'Maya Ruiz', state: 'viewing' });
    backend.emitLive({ type: 'presence', conversation_id: 1, agent_id: 8, agent_name: 'Maya Ruiz', state: 'typing' });
    backend.emitLive({ type: 'presence', conversation_id: 2, agent_id: 9, agent_name: 'Ben Okafor', state: 'draft' });
    expect(inbox.presenceOn(1).map((p) => [p.agent_id, p.state])).toEqual([[8, 'typing']]);
    expect(inbox.presenceOn(2).map((p) => [p.agent_id, p.state])).toEqual([[9, 'draft']]);
    backend.emitLive({ type: 'presence', conversation_id: 1, agent_id: 8, agent_name: 'Maya Ruiz', state: 'left' });
    expect(inbox.presenceOn(1)).toEqual([]);
    expect(Object.keys(inbox.presence)).toEqual(['2']);
  });

  it('ignores live events on the login screen, and forgets them on logout', async () => {
    const backend = new FakeBackend({ session: null });
    const inbox = new Inbox(backend);
    await inbox.start();
    backend.emitLive({ type: 'mentioned', conversation_id: 1, message_id: 5, by_name: 'Ben' });
    expect(inbox.mentions).toEqual([]);

    const { backend: b2, inbox: i2 } = await signedIn();
    b2.emitLive({ type: 'mentioned', conversation_id: 1, message_id: 5, by_name: 'Ben' });
    b2.emitLive({ type: 'presence', conversation_id: 1, agent_id: 8, agent_name: 'Maya', state: 'viewing' });
    expect(i2.mentions).toHaveLength(1);
    await i2.logout();
    expect(i2.mentions).toEqual([]);
    expect(i2.presence).toEqual({});
  });

  it('forgets agents, teams and canned responses on logout', async () => {
    const { inbox } = await signedIn();
    await inbox.agents.load();
    expect(inbox.agents.value).toHaveLength(4);
    await inbox.logout();
    expect(inbox.agents.value).toBeNull();
  });

  it('loads agents once, again after a failure', async () => {
    const { backend, inbox } = await signedIn();
    backend.failures.set('agents', new BackendError('network', 'down'));
    await inbox.agents.load();
    expect(inbox.agents.error?.code).toBe('network');
    await inbox.agents.load();
    await inbox.agents.load();
    expect(inbox.agents.value).toHaveLength(4);
    expect(backend.agents).toHaveBeenCalledTimes(2);
  });

  it('a session error while loading ends the session instead of showing it', async () => {
    const { backend, inbox } = await signedIn();
    backend.failures.set('teams', new BackendError('token_revoked', 'revoked'));
    await inbox.teams.load();
    expect(inbox.teams.error).toBeNull();
    expect(inbox.phase).toBe('login');
    expect(inbox.notice?.code).toBe('token_revoked');
  });

  it('sends presence only while signed in', async () => {
    const { backend, inbox } = await signedIn();
    inbox.viewing(1);
    expect(backend.setPresence).toHaveBeenCalledWith(1, 'viewing');
    await inbox.logout();
    inbox.viewing(2);
    expect(backend.setPresence).toHaveBeenCalledTimes(1);
    inbox.stop();
  });
});

describe('Inbox: unread marks', () => {
  it('opening marks seen for this agent on this server; another agent’s marks are their own', async () => {
    const inbox1 = await signedIn();
    const c = inbox1.inbox.conversations.find((x) => x.id === 1)!;
    expect(inbox1.inbox.seen.isUnread(c)).toBe(true);
    await inbox1.inbox.select(1);
    expect(inbox1.inbox.seen.isUnread(c)).toBe(false);
    expect(inbox1.inbox.seen.isUnread(inbox1.inbox.conversations.find((x) => x.id === 2)!)).toBe(true);

    // Logged out: nothing is known until the next login, which finds the marks again.
    await inbox1.inbox.logout();
    expect(inbox1.inbox.seen.isUnread(c)).toBe(true);
    await inbox1.inbox.login('http://127.0.0.1:8080', 'ana@example.com', 'pw');
    expect(inbox1.inbox.seen.isUnread(c)).toBe(false);
    inbox1.inbox.stop();

    // A colleague on the same machine has not read it.
    const other = new FakeBackend({
      details: [detail({ conversation: conversation({ id: 1 }) })],
      session: { ...session, agent: { ...agent, id: 8, name: 'Maya Ruiz' } },
    });
    const inbox2 = new Inbox(other);
    await inbox2.start();
    expect(inbox2.seen.isUnread(inbox2.conversations[0])).toBe(true);
    inbox2.stop();
  });
});

describe('Inbox: outbox (changes made offline)', () => {
  it('loads the outbox on entering and again when the backend signals a change', async () => {
    const backend = new FakeBackend({
      desktop: true,
      details: [detail({ conversation: conversation({ id: 1 }) }), detail({ conversation: conversation({ id: 2 }) })],
      outbox: [outboxEntry({ kind: 'claim', conversation_id: 1 })],
    });
    const inbox = new Inbox(backend);
    await inbox.start();
    expect(inbox.outboxFor(1).map((e) => e.kind)).toEqual(['claim']);
    expect(inbox.hasPending(1, 'claim')).toBe(true);
    expect(inbox.pendingChanges).toBe(1);

    backend.outboxEntries.push(outboxEntry({ kind: 'resolve', conversation_id: 2 }));
    backend.emitChange([2]);
    await vi.waitFor(() => expect(inbox.pendingChanges).toBe(2));
    expect(inbox.outboxFor(2).map((e) => e.kind)).toEqual(['resolve']);
    inbox.stop();
  });

  it('refused changes are not counted as waiting; already_applied ones are never shown', async () => {
    const backend = new FakeBackend({
      desktop: true,
      details: [detail()],
      outbox: [
        outboxEntry({ kind: 'claim', state: 'failed', error: { code: 'already_claimed', message: 'taken' } }),
        outboxEntry({ kind: 'note', text: 'x', state: 'failed', error: { code: 'already_applied', message: 'done' } }),
      ],
    });
    const inbox = new Inbox(backend);
    await inbox.start();
    expect(inbox.outboxFor(1).map((e) => e.kind)).toEqual(['claim']);
    expect(inbox.pendingChanges).toBe(0);
    expect(inbox.hasPending(1, 'claim')).toBe(false);
    inbox.stop();
  });

  it('retryChange and discardChange go to the backend and reload', async () => {
    const failed = outboxEntry({ kind: 'claim', state: 'failed', error: { code: 'not_assignee', message: 'x' } });
    const other = outboxEntry({ kind: 'resolve' });
    const backend = new FakeBackend({ desktop: true, details: [detail()], outbox: [failed, other] });
    const inbox = new Inbox(backend);
    await inbox.start();

    await inbox.retryChange(failed.client_id);
    expect(backend.retryChange).toHaveBeenCalledWith(failed.client_id);
    expect(inbox.outboxFor(1).find((e) => e.client_id === failed.client_id)?.state).toBe('pending');

    await inbox.discardChange(other.client_id);
    expect(backend.discardChange).toHaveBeenCalledWith(other.client_id);
    expect(inbox.outboxFor(1).map((e) => e.client_id)).toEqual([failed.client_id]);

    await expect(inbox.discardChange('nope')).rejects.toMatchObject({ code: 'not_found' });
    inbox.stop();
  });

  it('already_applied (a retry the server had applied) counts as done, never as an error', async () => {
    const { backend, inbox } = await signedIn();
    await inbox.select(1);
    const loads = backend.getThread.mock.calls.length;
    backend.failures.set('sendReply', new BackendError('already_applied', 'applied before'));
    await expect(inbox.send(1, 'hello')).resolves.toBeNull();
    expect(backend.getThread.mock.calls.length).toBeGreaterThan(loads);

    backend.failures.set('resolve', new BackendError('already_applied', 'applied before'));
    await expect(inbox.resolve(1, null)).resolves.toBeUndefined();
    expect(inbox.resolvedIds).toContain(1);

    backend.failures.set('claim', new BackendError('already_applied', 'applied before'));
    await expect(inbox.claim(2)).resolves.toBeUndefined();
    expect(inbox.phase).toBe('inbox');
    inbox.stop();
  });
});

describe('Inbox: notifications', () => {
  it('reportFocus tells the backend only when what is on screen changes', async () => {
    const { backend, inbox } = await signedIn();
    inbox.reportFocus(1);
    inbox.reportFocus(1);
    inbox.reportFocus(null);
    inbox.reportFocus(2);
    expect(backend.setFocus.mock.calls).toEqual([[1], [null], [2]]);
    inbox.stop();
  });

  it('a failing setFocus is never in the way', async () => {
    const { backend, inbox } = await signedIn();
    backend.failures.set('setFocus', new BackendError('internal', 'x'));
    expect(() => inbox.reportFocus(1)).not.toThrow();
    await Promise.resolve();
    expect(inbox.phase).toBe('inbox');
    inbox.stop();
  });

  it('do not disturb: loaded on start, switched here, and followed when the tray switches it', async () => {
    const backend = new FakeBackend({ details: [detail()] });
    backend.dnd = true;
    const inbox = new Inbox(backend);
    await inbox.start();
    await vi.waitFor(() => expect(inbox.doNotDisturb).toBe(true));

    await inbox.setDoNotDisturb(false);
    expect(backend.setDoNotDisturb).toHaveBeenCalledWith(false);
    expect(inbox.doNotDisturb).toBe(false);

    backend.emitDoNotDisturb(true);
    expect(inbox.doNotDisturb).toBe(true);

    backend.failures.set('setDoNotDisturb', new BackendError('local_store', 'disk full'));
    await inbox.setDoNotDisturb(false);
    expect(inbox.doNotDisturb).toBe(true);
    expect(inbox.settingsError?.code).toBe('local_store');
    inbox.stop();
  });
});

describe('Inbox: switching accounts', () => {
  it('switchAccount runs the other sign-in and reloads everything as after a login', async () => {
    const backend = new FakeBackend({
      desktop: true,
      details: [detail({ conversation: conversation({ id: 1 }) })],
      agents: colleagues,
      savedServers: [
        savedServer(),
        savedServer({ server_url: 'https://eu.example.com', workspace_name: 'EU Support', current: false }),
      ],
    });
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    await inbox.agents.load();
    const lists = backend.listConversations.mock.calls.length;

    await inbox.switchAccount('https://eu.example.com', 'ana@example.com');

    expect(backend.switchServer).toHaveBeenCalledWith('https://eu.example.com', 'ana@example.com');
    expect(inbox.phase).toBe('inbox');
    expect(inbox.session?.workspace_name).toBe('EU Support');
    expect(inbox.selectedId).toBeNull();
    expect(inbox.thread).toBeNull();
    expect(inbox.agents.value).toBeNull();
    expect(backend.listConversations.mock.calls.length).toBeGreaterThan(lists);
    expect(localStorage.getItem('handoff-inbox.server-url')).toBe('https://eu.example.com');
    inbox.stop();
  });

  it('a refused switch (not_logged_in, pending_changes) leaves the current sign-in as it was', async () => {
    const backend = new FakeBackend({
      desktop: true,
      details: [detail()],
      savedServers: [savedServer({ server_url: 'https://eu.example.com', current: false, signed_in: false })],
    });
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);

    await expect(inbox.switchAccount('https://eu.example.com', 'ana@example.com')).rejects.toMatchObject({
      code: 'not_logged_in',
    });
    backend.failures.set('switchServer', new BackendError('pending_changes', '2 changes wait'));
    await expect(inbox.switchAccount('https://eu.example.com', 'ana@example.com')).rejects.toMatchObject({
      code: 'pending_changes',
    });
    expect(inbox.phase).toBe('inbox');
    expect(inbox.notice).toBeNull();
    expect(inbox.session?.workspace_name).toBe('Acme Support');
    expect(inbox.selectedId).toBe(1);
    inbox.stop();
  });
});

describe('Inbox: the conversation list', () => {
  it('a row the server changed is replaced in a new list; the list given before is left as it was', async () => {
    const { backend, inbox } = await signedIn();
    const before = inbox.conversations;
    const beforeRow = before.find((c) => c.id === 1)!;
    const list = new ListState(inbox, null);
    expect(list.items.map((c) => c.labels)).toEqual([[], []]);

    // The thread says more than the list did: the row follows it.
    backend.threads.get(1)!.conversation.labels = ['vip'];
    await inbox.select(1);
    expect(inbox.conversations).not.toBe(before);
    expect(inbox.conversations.find((c) => c.id === 1)!.labels).toEqual(['vip']);
    expect(beforeRow.labels).toEqual([]);
    expect(list.items.find((c) => c.id === 1)!.labels).toEqual(['vip']);

    // A change made here (labels, claim, transfer): the row shows what the server returned.
    const afterSelect = inbox.conversations;
    await inbox.setLabels(2, ['refund']);
    expect(inbox.conversations).not.toBe(afterSelect);
    expect(inbox.conversations.find((c) => c.id === 2)!.labels).toEqual(['refund']);
    expect(afterSelect.find((c) => c.id === 2)!.labels).toEqual([]);
    expect(list.items.find((c) => c.id === 2)!.labels).toEqual(['refund']);
    expect(list.items.map((c) => c.id)).toEqual(inbox.conversations.map((c) => c.id));
  });
});
