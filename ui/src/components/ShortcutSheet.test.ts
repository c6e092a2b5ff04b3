import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from '../App.svelte';
import ShortcutSheet from './ShortcutSheet.svelte';
import { SHORTCUTS } from '../lib/shortcuts';
import { FakeBackend } from '../test/fakeBackend';
import { conversation, detail } from '../test/fixtures';

describe('ShortcutSheet', () => {
  it('a labelled modal dialog listing every shortcut of the table', () => {
    render(ShortcutSheet, { onclose: vi.fn() });
    const dialog = screen.getByRole('dialog', { name: 'Keyboard shortcuts' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    const items = within(dialog).getAllByTestId('shortcut');
    expect(items.map((i) => i.dataset.action)).toEqual(expect.arrayContaining(SHORTCUTS.map((s) => s.action)));
    expect(items).toHaveLength(SHORTCUTS.length);
    for (const s of SHORTCUTS) {
      const item = items.find((i) => i.dataset.action === s.action)!;
      expect(item).toHaveTextContent(s.description);
      const keys = Array.from(item.querySelectorAll('kbd'), (k) => k.textContent);
      expect(keys).toEqual(s.keys.flatMap((k) => k.split(' ')));
    }
    // "g then i" reads as a sequence; alternatives with "or".
    const keysText = (action: string) => items.find((i) => i.dataset.action === action)!.querySelector('dt')!.textContent!.replace(/\s+/g, ' ').trim();
    expect(keysText('top')).toBe('g then i');
    expect(keysText('open')).toBe('Enter or o');
    expect(keysText('next')).toBe('j');
    expect(within(dialog).getByRole('button', { name: 'Close keyboard shortcuts' })).toBeInTheDocument();
  });

  it('Escape and the close button call onclose; clicking inside does not', async () => {
    const user = userEvent.setup();
    const onclose = vi.fn();
    render(ShortcutSheet, { onclose });
    await user.click(screen.getByRole('heading', { name: 'Keyboard shortcuts' }));
    expect(onclose).not.toHaveBeenCalled();
    screen.getByRole('button', { name: 'Close keyboard shortcuts' }).focus();
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalledTimes(1);
    await user.click(screen.getByRole('button', { name: 'Close keyboard shortcuts' }));
    expect(onclose).toHaveBeenCalledTimes(2);
  });

  it('in the app: ? opens it, focus goes in and stays in, Escape closes and gives focus back', async () => {
    const user = userEvent.setup();
    render(App, { backend: new FakeBackend({ details: [detail({ conversation: conversation({ id: 1 }) })] }) });
    await screen.findAllByTestId('conversation-item');
    const listbox = screen.getByRole('listbox');
    listbox.focus();

    await user.keyboard('?');
    const dialog = await screen.findByRole('dialog', { name: 'Keyboard shortcuts' });
    const close = within(dialog).getByRole('button', { name: 'Close keyboard shortcuts' });
    await waitFor(() => expect(close).toHaveFocus());

    // The only focusable thing inside: Tab and Shift+Tab stay on it.
    await user.tab();
    expect(close).toHaveFocus();
    await user.tab({ shift: true });
    expect(close).toHaveFocus();

    // Shortcuts are off while it is open.
    await user.keyboard('j');
    expect(within(listbox).getAllByRole('option')[0]).toHaveAttribute('aria-selected', 'false');

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(listbox).toHaveFocus();
  });

  it('the header button opens it too, and focus returns to that button', async () => {
    const user = userEvent.setup();
    render(App, { backend: new FakeBackend({ details: [detail()] }) });
    await screen.findByTestId('inbox');
    const button = screen.getByRole('button', { name: 'Keyboard shortcuts' });
    await user.click(button);
    const dialog = await screen.findByRole('dialog', { name: 'Keyboard shortcuts' });
    await user.click(within(dialog).getByRole('button', { name: 'Close keyboard shortcuts' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(button).toHaveFocus();
  });
});
