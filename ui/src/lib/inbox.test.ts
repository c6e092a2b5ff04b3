import { describe, expect, it } from 'vitest';
import { Inbox } from './inbox.svelte';
import { BackendError } from './errors';
import { FakeBackend } from '../test/fakeBackend';
import { agent, colleagues, conversation, detail, session } from '../test/fixtures';

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
