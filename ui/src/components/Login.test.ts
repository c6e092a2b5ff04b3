import { describe, expect, it, beforeEach } from 'vitest';
import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from '../App.svelte';
import Login from './Login.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { conversation, detail } from '../test/fixtures';

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
