import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Header from './Header.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { THEME_KEY } from '../lib/theme';
import { FakeBackend } from '../test/fakeBackend';
import { BackendError } from '../lib/errors';
import { detail, outboxEntry, savedServer } from '../test/fixtures';
import type { OutboxEntry } from '../lib/types';

async function header() {
  const inbox = new Inbox(new FakeBackend());
  await inbox.start();
  render(Header, { inbox, onshortcuts: vi.fn() });
  return { user: userEvent.setup() };
}

const html = document.documentElement;

describe('Header: theme', () => {
  afterEach(() => {
    delete html.dataset.theme;
    delete html.dataset.themeChoice;
    // jsdom has no matchMedia; some tests add one.
    delete (window as { matchMedia?: unknown }).matchMedia;
  });

  it('a labelled radio group of three icon buttons; system by default', async () => {
    await header();
    const group = screen.getByRole('radiogroup', { name: 'Theme' });
    const radios = within(group).getAllByRole('radio');
    expect(radios.map((r) => r.getAttribute('aria-label'))).toEqual([
      'Light theme',
      'Dark theme',
      'Theme follows the system',
    ]);
    expect(screen.getByRole('radio', { name: 'Theme follows the system' })).toHaveAttribute('aria-checked', 'true');
    // jsdom prefers nothing: light.
    expect(html.dataset.theme).toBe('light');
    expect(screen.getByRole('button', { name: 'Keyboard shortcuts' })).toBeInTheDocument();
  });

  it('choosing dark applies data-theme on <html> and is remembered', async () => {
    const { user } = await header();
    await user.click(screen.getByRole('radio', { name: 'Dark theme' }));
    expect(html.dataset.theme).toBe('dark');
    expect(localStorage.getItem(THEME_KEY)).toBe('dark');
    expect(screen.getByRole('radio', { name: 'Dark theme' })).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByRole('radio', { name: 'Dark theme' })).toHaveAttribute('tabindex', '0');
    expect(screen.getByRole('radio', { name: 'Light theme' })).toHaveAttribute('tabindex', '-1');

    // Arrow keys move the choice.
    await user.keyboard('{ArrowLeft}');
    expect(html.dataset.theme).toBe('light');
    expect(screen.getByRole('radio', { name: 'Light theme' })).toHaveFocus();
    expect(localStorage.getItem(THEME_KEY)).toBe('light');
  });

  it('a stored choice is used on start', async () => {
    localStorage.setItem(THEME_KEY, 'dark');
    await header();
    expect(html.dataset.theme).toBe('dark');
    expect(screen.getByRole('radio', { name: 'Dark theme' })).toHaveAttribute('aria-checked', 'true');
  });

  it('system follows prefers-color-scheme, live', async () => {
    const listeners = new Set<(e: { matches: boolean }) => void>();
    Object.defineProperty(window, 'matchMedia', {
      configurable: true,
      value: () => ({
        matches: true,
        addEventListener: (_: string, l: (e: { matches: boolean }) => void) => listeners.add(l),
        removeEventListener: (_: string, l: (e: { matches: boolean }) => void) => listeners.delete(l),
      }),
    });
    const { user } = await header();
    expect(html.dataset.theme).toBe('dark');
    listeners.forEach((l) => l({ matches: false }));
    expect(html.dataset.theme).toBe('light');
    // A fixed choice stops following.
    await user.click(screen.getByRole('radio', { name: 'Dark theme' }));
    expect(listeners.size).toBe(0);
  });
});

describe('Header: do not disturb', () => {
  it('a labelled toggle button: pressed while on; switching it tells the backend', async () => {
    const backend = new FakeBackend();
    const inbox = new Inbox(backend);
    await inbox.start();
    render(Header, { inbox });
    const user = userEvent.setup();
    const toggle = screen.getByRole('button', { name: 'Do not disturb' });
    expect(toggle).toHaveAttribute('aria-pressed', 'false');

    await user.click(toggle);
    expect(backend.setDoNotDisturb).toHaveBeenCalledWith(true);
    expect(toggle).toHaveAttribute('aria-pressed', 'true');

    // Switched off from the tray menu.
    backend.emitDoNotDisturb(false);
    await waitFor(() => expect(toggle).toHaveAttribute('aria-pressed', 'false'));
  });

  it('shows the state the backend kept', async () => {
    const backend = new FakeBackend();
    backend.dnd = true;
    const inbox = new Inbox(backend);
    await inbox.start();
    render(Header, { inbox });
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Do not disturb' })).toHaveAttribute('aria-pressed', 'true'),
    );
  });

  it('a failure says why, by code, and leaves it as it was', async () => {
    const backend = new FakeBackend();
    backend.failures.set('setDoNotDisturb', new BackendError('local_store', 'SQLITE_FULL'));
    const inbox = new Inbox(backend);
    await inbox.start();
    render(Header, { inbox });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Do not disturb' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'local_store');
    expect(alert).not.toHaveTextContent('SQLITE_FULL');
    expect(screen.getByRole('button', { name: 'Do not disturb' })).toHaveAttribute('aria-pressed', 'false');
  });
});

describe('Header: changes waiting to be sent', () => {
  async function withOutbox(outbox: OutboxEntry[]) {
    const backend = new FakeBackend({ desktop: true, details: [detail()], outbox });
    const inbox = new Inbox(backend);
    await inbox.start();
    render(Header, { inbox });
    return { backend, inbox };
  }

  it('offline, says how many changes wait', async () => {
    const { backend } = await withOutbox([
      outboxEntry({ kind: 'claim' }),
      outboxEntry({ kind: 'reply', text: 'hi' }),
      outboxEntry({ kind: 'resolve' }),
      outboxEntry({ kind: 'note', text: 'x', state: 'failed', error: { code: 'forbidden', message: 'no' } }),
    ]);
    backend.emitConnection(false);
    expect(await screen.findByTestId('pending-changes')).toHaveTextContent('3 changes waiting to be sent');

    // Back online: they are being sent.
    backend.emitConnection(true);
    await waitFor(() => expect(screen.queryByTestId('pending-changes')).not.toBeInTheDocument());
  });

  it('one change, and none', async () => {
    const { backend } = await withOutbox([outboxEntry({ kind: 'claim' })]);
    backend.emitConnection(false);
    expect(await screen.findByTestId('pending-changes')).toHaveTextContent('1 change waiting to be sent');
    backend.outboxEntries = [];
    backend.emitChange([1]);
    await waitFor(() => expect(screen.queryByTestId('pending-changes')).not.toBeInTheDocument());
  });
});

describe('Header: settings and accounts (desktop)', () => {
  const eu = savedServer({
    server_url: 'https://eu.example.com',
    workspace_name: 'EU Support',
    agent_name: 'Ana EU',
    current: false,
  });
  const old = savedServer({
    server_url: 'https://old.example.com',
    workspace_name: 'Old Co',
    agent_name: 'Ana Old',
    current: false,
    signed_in: false,
  });

  async function desktopHeader(saved = [savedServer(), eu, old]) {
    const backend = new FakeBackend({ desktop: true, details: [detail()], savedServers: saved });
    const inbox = new Inbox(backend);
    await inbox.start();
    render(Header, { inbox });
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Settings and accounts' }));
    const panel = await screen.findByRole('dialog', { name: 'Settings and accounts' });
    return { backend, inbox, user, panel };
  }

  it('not in the browser', async () => {
    await header();
    expect(screen.queryByRole('button', { name: 'Settings and accounts' })).not.toBeInTheDocument();
  });

  it('"Start Handoff Inbox when I log in" shows and switches the real state', async () => {
    const { backend, user, panel } = await desktopHeader();
    const box = within(panel).getByRole('checkbox', { name: 'Start Handoff Inbox when I log in' });
    await waitFor(() => expect(box).toBeEnabled());
    expect(box).not.toBeChecked();
    await user.click(box);
    expect(backend.setStartAtLogin).toHaveBeenCalledWith(true);
    await waitFor(() => expect(box).toBeChecked());

    backend.failures.set('setStartAtLogin', new BackendError('internal', 'autostart: denied'));
    await user.click(box);
    const alert = await within(panel).findByRole('alert');
    expect(alert).toHaveTextContent('Something went wrong. Please try again.');
    expect(box).toBeChecked();
  });

  it('lists the other saved sign-ins; switching loads that account', async () => {
    const { backend, inbox, user, panel } = await desktopHeader();
    const items = await within(panel).findAllByTestId('saved-account');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('Ana EU');
    expect(items[0]).toHaveTextContent('EU Support');
    // Signed out: needs the password, no switch.
    expect(items[1]).toHaveTextContent('Password needed');
    expect(within(items[1]).queryByRole('button', { name: /^Switch/ })).not.toBeInTheDocument();

    await user.click(within(items[0]).getByRole('button', { name: 'Switch to Ana EU (EU Support)' }));
    expect(backend.switchServer).toHaveBeenCalledWith('https://eu.example.com', 'ana@example.com');
    await waitFor(() => expect(screen.getByTestId('workspace-name')).toHaveTextContent('EU Support'));
    expect(inbox.phase).toBe('inbox');
    expect(screen.queryByRole('dialog', { name: 'Settings and accounts' })).not.toBeInTheDocument();
  });

  it('a refused switch says why in words and keeps the current account', async () => {
    const { backend, user, panel } = await desktopHeader();
    backend.failures.set('switchServer', new BackendError('pending_changes', '3 changes wait for http://x'));
    const [euItem] = await within(panel).findAllByTestId('saved-account');
    await user.click(within(euItem).getByRole('button', { name: /^Switch to/ }));
    const alert = await within(panel).findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'pending_changes');
    expect(alert).toHaveTextContent('Changes made offline still wait to be sent; go online or discard them first.');
    expect(screen.getByTestId('workspace-name')).toHaveTextContent('Acme Support');

    backend.failures.set('switchServer', new BackendError('not_logged_in', 'no tokens'));
    await user.click(within(euItem).getByRole('button', { name: /^Switch to/ }));
    await waitFor(() => expect(within(panel).getByRole('alert')).toHaveAttribute('data-error-code', 'not_logged_in'));
    expect(within(panel).getByRole('alert')).toHaveTextContent('That account needs its password again');
    expect(screen.getByTestId('workspace-name')).toHaveTextContent('Acme Support');
  });

  it('Forget removes a saved sign-in', async () => {
    const { backend, user, panel } = await desktopHeader();
    await within(panel).findAllByTestId('saved-account');
    await user.click(within(panel).getByRole('button', { name: 'Forget Ana Old (Old Co)' }));
    expect(backend.forgetServer).toHaveBeenCalledWith('https://old.example.com', 'ana@example.com');
    await waitFor(() => expect(within(panel).getAllByTestId('saved-account')).toHaveLength(1));
  });

  it('says so when there is no other account; Escape closes and gives the focus back', async () => {
    const { user, panel } = await desktopHeader([savedServer()]);
    expect(await within(panel).findByTestId('no-other-accounts')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Settings and accounts' })).not.toBeInTheDocument());
    expect(screen.getByRole('button', { name: 'Settings and accounts' })).toHaveFocus();
  });
});
