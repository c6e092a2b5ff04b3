import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Header from './Header.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { THEME_KEY } from '../lib/theme';
import { FakeBackend } from '../test/fakeBackend';

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
