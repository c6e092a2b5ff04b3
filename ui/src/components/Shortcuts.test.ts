// App-wide keyboard shortcuts (lib/shortcuts.ts), as an agent uses them.
import { describe, expect, it } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from '../App.svelte';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, colleagues, conversation, detail, handoff, team } from '../test/fixtures';
import { ROW_HEIGHT } from '../lib/listState.svelte';
import type { ConversationDetail } from '../lib/types';

const min = 60_000;

/** 1: mine; 2: waiting in the queue; 3: mine, the customer waiting on us. Newest first. */
function threads(): ConversationDetail[] {
  return [
    detail({ conversation: conversation({ id: 1, last_message_at: NOW - min }) }),
    detail({
      conversation: conversation({
        id: 2,
        state: 'waiting',
        assignee_id: null,
        last_message_at: NOW - 2 * min,
        contact: { id: 2, wa_id: '15550000002', bsuid: null, name: 'Queue Person' },
      }),
      handoffs: [handoff({ conversation_id: 2, status: 'waiting', assignee_id: null, assigned_at: null, first_response_at: null })],
    }),
    detail({ conversation: conversation({ id: 3, last_message_at: NOW - 3 * min }) }),
  ];
}

async function app(details: ConversationDetail[] = threads()) {
  const backend = new FakeBackend({ details, agents: colleagues, teams: [team()] });
  const user = userEvent.setup();
  render(App, { backend });
  await screen.findAllByTestId('conversation-item');
  return { backend, user };
}

const listbox = () => screen.getByRole('listbox');
const options = () => {
  const box = screen.queryByRole('listbox');
  return box ? within(box).queryAllByRole('option') : [];
};
const cursorId = () =>
  options()
    .find((o) => o.getAttribute('aria-selected') === 'true')
    ?.getAttribute('data-conversation-id') ?? null;
const openId = () => screen.queryByTestId('thread')?.getAttribute('data-conversation-id') ?? null;

describe('shortcuts: moving and opening', () => {
  it('j / k move through the list without opening; Enter and o open', async () => {
    const { user, backend } = await app();
    expect(cursorId()).toBeNull();
    await user.keyboard('j');
    expect(cursorId()).toBe('1');
    await user.keyboard('j');
    expect(cursorId()).toBe('2');
    await user.keyboard('jjj'); // stops at the end
    expect(cursorId()).toBe('3');
    await user.keyboard('k');
    expect(cursorId()).toBe('2');
    expect(backend.getThread).not.toHaveBeenCalled();

    await user.keyboard('{Enter}');
    await waitFor(() => expect(openId()).toBe('2'));
    await user.keyboard('k');
    await user.keyboard('o');
    await waitFor(() => expect(openId()).toBe('1'));
    expect(backend.getThread).toHaveBeenLastCalledWith(1);
  });

  it('j scrolls the cursor row into view in a long list', async () => {
    const details = Array.from({ length: 60 }, (_, i) =>
      detail({ conversation: conversation({ id: i + 1, last_message_at: NOW - i * min }) }),
    );
    const { user } = await app(details);
    for (let i = 0; i < 40; i++) await user.keyboard('j');
    expect(cursorId()).toBe('40');
    // 40 rows down: past the first screenful (the jsdom fallback viewport is 800 px).
    expect(listbox().scrollTop).toBe(40 * ROW_HEIGHT - 800);
    expect(listbox()).toHaveAttribute('aria-activedescendant', 'conversation-option-40');
    await user.keyboard('gi');
    expect(cursorId()).toBe('1');
    expect(listbox().scrollTop).toBe(0);
    expect(listbox()).toHaveFocus();
  });

  it('g then i goes to the top only as a sequence', async () => {
    const { user } = await app();
    await user.keyboard('jjj');
    await user.keyboard('i');
    expect(cursorId()).toBe('3');
    await user.keyboard('g');
    await user.keyboard('i');
    expect(cursorId()).toBe('1');
  });

  it('1..6 switch the filters', async () => {
    const { user } = await app();
    await user.keyboard('3');
    expect(screen.getByRole('tab', { name: /^Queue/ })).toHaveAttribute('aria-selected', 'true');
    expect(options().map((o) => o.dataset.conversationId)).toEqual(['2']);
    await user.keyboard('2');
    expect(screen.getByRole('tab', { name: /^Mine/ })).toHaveAttribute('aria-selected', 'true');
    expect(options().map((o) => o.dataset.conversationId)).toEqual(['1', '3']);
    await user.keyboard('1');
    expect(options()).toHaveLength(3);
  });

  it('/ goes to the search field', async () => {
    const { user } = await app();
    await user.keyboard('/');
    expect(screen.getByRole('searchbox', { name: 'Search conversations' })).toHaveFocus();
  });
});

describe('shortcuts: acting on the open conversation', () => {
  async function openFirst() {
    const ctx = await app();
    await ctx.user.keyboard('j{Enter}');
    await waitFor(() => expect(openId()).toBe('1'));
    await screen.findByTestId('composer');
    // Reading the thread, not typing anywhere.
    (document.activeElement as HTMLElement | null)?.blur();
    return ctx;
  }

  it('r focuses the reply box; n switches to a note; r back to a reply', async () => {
    const { user } = await openFirst();
    const input = document.querySelector<HTMLTextAreaElement>('#composer-input')!;
    await user.keyboard('r');
    await waitFor(() => expect(input).toHaveFocus());
    // The key itself is not typed.
    expect(input).toHaveValue('');

    input.blur();
    await user.keyboard('n');
    await waitFor(() => expect(screen.getByTestId('note-hint')).toBeInTheDocument());
    await waitFor(() => expect(input).toHaveFocus());
    expect(input).toHaveValue('');

    input.blur();
    await user.keyboard('r');
    await waitFor(() => expect(screen.queryByTestId('note-hint')).not.toBeInTheDocument());
  });

  it('e starts resolving with the usual confirmation (a note, then confirm)', async () => {
    const { user, backend } = await openFirst();
    await user.keyboard('e');
    const note = await waitFor(() => {
      const el = document.querySelector<HTMLInputElement>('#resolve-note');
      expect(el).toHaveFocus();
      return el!;
    });
    expect(backend.resolve).not.toHaveBeenCalled();
    await user.type(note, 'done{Enter}');
    await waitFor(() => expect(backend.resolve).toHaveBeenCalledWith(1, 'done'));
  });

  it('t opens the transfer dialog; other shortcuts wait while it is open; Escape closes it', async () => {
    const { user } = await openFirst();
    await user.keyboard('t');
    const dialog = await screen.findByRole('dialog', { name: 'Transfer conversation' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    await waitFor(() => expect(within(dialog).getByLabelText('Transfer to')).toHaveFocus());
    const cursor = cursorId();
    within(dialog).getByRole('button', { name: 'Cancel' }).focus();
    await user.keyboard('?j');
    expect(screen.getAllByRole('dialog')).toHaveLength(1);
    expect(cursorId()).toBe(cursor);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    // Back on the Transfer button.
    expect(screen.getByRole('button', { name: 'Transfer' })).toHaveFocus();
  });

  it('c claims a waiting conversation, and does nothing on one that is not', async () => {
    const { user, backend } = await openFirst();
    await user.keyboard('c');
    expect(backend.claim).not.toHaveBeenCalled();

    await user.keyboard('j{Enter}');
    await waitFor(() => expect(openId()).toBe('2'));
    await screen.findByRole('button', { name: 'Claim' });
    (document.activeElement as HTMLElement | null)?.blur();
    await user.keyboard('c');
    await waitFor(() => expect(backend.claim).toHaveBeenCalledWith(2));
  });
});

describe('shortcuts: typing is typing', () => {
  it('keys typed in a text field stay there; Escape leaves the field for the list', async () => {
    const { user, backend } = await app();
    const search = screen.getByRole('searchbox', { name: 'Search conversations' });
    await user.click(search);
    await user.keyboard('j3?');
    expect(search).toHaveValue('j3?');
    expect(cursorId()).toBeNull();
    expect(screen.getByRole('tab', { name: /^All/ })).toHaveAttribute('aria-selected', 'true');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    // The first Escape clears the search (its own job), the second leaves the field.
    await user.keyboard('{Escape}');
    expect(search).toHaveValue('');
    expect(search).toHaveFocus();
    // The list is back, and "j" moved nothing.
    expect(options()).toHaveLength(3);
    expect(cursorId()).toBeNull();
    await user.keyboard('{Escape}');
    expect(search).not.toHaveFocus();
    expect(listbox()).toHaveFocus();

    // In the reply box too.
    await user.keyboard('j{Enter}');
    await waitFor(() => expect(openId()).toBe('1'));
    const input = await waitFor(() => document.querySelector<HTMLTextAreaElement>('#composer-input:not(:disabled)')!);
    await user.click(input);
    await user.keyboard('ok ejct');
    expect(input).toHaveValue('ok ejct');
    expect(backend.resolve).not.toHaveBeenCalled();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(input).not.toHaveFocus();
    expect(input).toHaveValue('ok ejct');
  });

  it('a field that uses Escape itself keeps it (the labels editor closes, focus back on its button)', async () => {
    const { user } = await app();
    await user.keyboard('j{Enter}');
    await waitFor(() => expect(openId()).toBe('1'));
    const toggle = await screen.findByRole('button', { name: 'Labels' });
    await user.click(toggle);
    const editor = await screen.findByTestId('label-editor');
    const field = within(editor).getByRole('combobox');
    await waitFor(() => expect(field).toHaveFocus());
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('label-editor')).not.toBeInTheDocument();
    expect(toggle).toHaveFocus();
    expect(listbox()).not.toHaveFocus();
  });

  it('keys with Ctrl, Cmd or Alt are not shortcuts', async () => {
    const { user } = await app();
    await user.keyboard('{Control>}j{/Control}{Meta>}j{/Meta}{Alt>}j{/Alt}');
    expect(cursorId()).toBeNull();
  });

  it('nothing happens on the login screen', async () => {
    const user = userEvent.setup();
    render(App, { backend: new FakeBackend({ session: null }) });
    await screen.findByLabelText(/password/i);
    await user.keyboard('?');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
