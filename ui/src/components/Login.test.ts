import { describe, expect, it, beforeEach } from 'vitest';
import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from '../App.svelte';
import Login from './Login.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { conversation, detail, savedServer } from '../test/fixtures';

describe('Login', () => {
  beforeEach(() => localStorage.clear());

  it('shows labelled fields with the default server URL', () => {
    const inbox = new Inbox(new FakeBackend({ session: null }));
    render(Login, { inbox });
    expect(screen.getByLabelText('Server URL')).toHaveValue('http://127.0.0.1:8080');
    expect(screen.getByLabelText('Email')).toHaveAttribute('id', 'email');
    expect(screen.getByLabelText('Password')).toHaveAttribute('type', 'password');
    expect(document.querySelector('#login-submit')).toBeDisabled();
  });

  it('submits the credentials and enters the inbox', async () => {
    const user = userEvent.setup();
    const backend = new FakeBackend({ session: null, details: [detail()] });
    render(App, { backend });
    const server = await screen.findByLabelText('Server URL');
    await user.clear(server);
    await user.type(server, 'http://10.0.0.5:9000');
    await user.type(screen.getByLabelText('Email'), 'ana@example.com');
    await user.type(screen.getByLabelText('Password'), 'secret');
    await user.click(document.querySelector('#login-submit')!);

    expect(backend.login).toHaveBeenCalledWith('http://10.0.0.5:9000', 'ana@example.com', 'secret');
    expect(await screen.findByTestId('inbox')).toBeInTheDocument();
    expect(screen.getByTestId('agent-name')).toHaveTextContent('Ana Agent');
    // next time the form remembers the server
    expect(localStorage.getItem('handoff-inbox.server-url')).toBe('http://10.0.0.5:9000');
  });

  it.each([
    ['invalid_credentials', 'Wrong email or password.'],
    ['network', "Can't reach the server at http://127.0.0.1:8080"],
    ['forbidden', "You don't have permission to do that."],
  ] as const)('shows the friendly text for %s, chosen by code', async (code, text) => {
    const user = userEvent.setup();
    const backend = new FakeBackend({ session: null });
    backend.failures.set('login', new BackendError(code, 'raw server text that must not be shown'));
    render(App, { backend });
    await user.type(await screen.findByLabelText('Email'), 'ana@example.com');
    await user.type(screen.getByLabelText('Password'), 'nope');
    await user.keyboard('{Enter}');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', code);
    expect(alert).toHaveTextContent(text);
    expect(alert).not.toHaveTextContent('raw server text');
    expect(screen.queryByTestId('inbox')).not.toBeInTheDocument();
  });

  it('says how long to wait when logins are rate limited, from the error details', async () => {
    const user = userEvent.setup();
    const backend = new FakeBackend({ session: null });
    backend.failures.set(
      'login',
      new BackendError('rate_limited', 'too many failed logins; try again in 90 s', { retry_after_secs: 45 }),
    );
    render(App, { backend });
    await user.type(await screen.findByLabelText('Email'), 'ana@example.com');
    await user.type(screen.getByLabelText('Password'), 'nope');
    await user.keyboard('{Enter}');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'rate_limited');
    expect(alert).toHaveTextContent('Too many attempts. Please wait 45 seconds and try again.');
  });

  it('goes straight to the inbox when session() restores a login', async () => {
    const backend = new FakeBackend({ details: [detail({ conversation: conversation({ id: 5 }) })] });
    render(App, { backend });
    expect(await screen.findByTestId('inbox')).toBeInTheDocument();
    expect(screen.queryByLabelText('Password')).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('conversation-item')).toHaveLength(1));
  });
});

describe('Login: saved sign-ins (desktop)', () => {
  beforeEach(() => localStorage.clear());

  const eu = savedServer({
    server_url: 'https://eu.example.com',
    workspace_name: 'EU Support',
    agent_name: 'Ana EU',
    current: false,
  });
  const old = savedServer({
    server_url: 'https://old.example.com',
    email: 'ana@old.example.com',
    workspace_name: 'Old Co',
    agent_name: 'Ana Old',
    current: false,
    signed_in: false,
  });

  function signedOut(desktop = true) {
    return new FakeBackend({ session: null, desktop, details: [detail()], savedServers: [eu, old] });
  }

  it('lists the accounts this computer signed in to', async () => {
    render(App, { backend: signedOut() });
    const items = await screen.findAllByTestId('saved-sign-in');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('Ana EU');
    expect(items[0]).toHaveTextContent('EU Support · https://eu.example.com');
    expect(items[0]).toHaveTextContent('Signed in');
    expect(items[1]).toHaveTextContent('Password needed');
  });

  it('one still signed in: a click switches to it and enters the inbox, no password', async () => {
    const user = userEvent.setup();
    const backend = signedOut();
    render(App, { backend });
    await user.click((await screen.findAllByTestId('saved-sign-in'))[0]);
    expect(backend.switchServer).toHaveBeenCalledWith('https://eu.example.com', 'ana@example.com');
    expect(await screen.findByTestId('inbox')).toBeInTheDocument();
    expect(screen.getByTestId('workspace-name')).toHaveTextContent('EU Support');
    expect(backend.login).not.toHaveBeenCalled();
  });

  it('one that needs its password: the form is filled in and the password field focused', async () => {
    const user = userEvent.setup();
    const backend = signedOut();
    render(App, { backend });
    await user.click((await screen.findAllByTestId('saved-sign-in'))[1]);
    expect(screen.getByLabelText('Server URL')).toHaveValue('https://old.example.com');
    expect(screen.getByLabelText('Email')).toHaveValue('ana@old.example.com');
    await waitFor(() => expect(screen.getByLabelText('Password')).toHaveFocus());
    expect(backend.switchServer).not.toHaveBeenCalled();
  });

  it('signed out meanwhile (not_logged_in): asks for the password instead', async () => {
    const user = userEvent.setup();
    const backend = signedOut();
    backend.failures.set('switchServer', new BackendError('not_logged_in', 'no tokens'));
    render(App, { backend });
    await user.click((await screen.findAllByTestId('saved-sign-in'))[0]);
    await waitFor(() => expect(screen.getByLabelText('Password')).toHaveFocus());
    expect(screen.getByLabelText('Server URL')).toHaveValue('https://eu.example.com');
    expect(screen.getAllByTestId('saved-sign-in')[0]).toHaveTextContent('Password needed');
    expect(screen.queryByTestId('inbox')).not.toBeInTheDocument();
  });

  it('pending_changes: says so in words', async () => {
    const user = userEvent.setup();
    const backend = signedOut();
    backend.failures.set('switchServer', new BackendError('pending_changes', '2 changes wait for http://x'));
    render(App, { backend });
    await user.click((await screen.findAllByTestId('saved-sign-in'))[0]);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'pending_changes');
    expect(alert).toHaveTextContent('Changes made offline still wait to be sent; go online or discard them first.');
  });

  it('not in the browser', async () => {
    const backend = signedOut(false);
    render(App, { backend });
    await screen.findByLabelText('Password');
    expect(screen.queryByTestId('saved-sign-in')).not.toBeInTheDocument();
    expect(backend.savedServers).not.toHaveBeenCalled();
  });
});
