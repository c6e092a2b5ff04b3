import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { DRAFT_AFTER_MS, TYPING_EVERY_MS } from '../lib/presence';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, canned, colleagues, conversation, detail } from '../test/fixtures';
import type { ConversationState } from '../lib/types';

const savedReplies = [
  canned({ id: 1, shortcut: 'hello', title: 'Greeting', body: 'Hi {{contact.name}}, thanks for reaching out!' }),
  canned({ id: 2, shortcut: 'refund', title: 'Refund policy', body: 'Your refund for order {{contact.order}} is on its way.' }),
  canned({ id: 3, shortcut: 'thanks', title: 'Closing', body: 'Thanks, {{contact.name}}!' }),
];

async function setup(state: ConversationState = 'assigned', options: { timers?: boolean } = {}) {
  const d = detail({
    conversation: conversation({
      state,
      assignee_id: state === 'assigned' ? 7 : null,
      active_handoff_id: state === 'automation' ? null : 100,
    }),
  });
  const backend = new FakeBackend({ details: [d], agents: colleagues, canned: savedReplies });
  const inbox = new Inbox(backend);
  await inbox.start();
  await inbox.select(1);
  const view = render(Thread, { inbox });
  const input = document.querySelector<HTMLTextAreaElement>('#composer-input')!;
  const send = document.querySelector<HTMLButtonElement>('#send-reply')!;
  const user = options.timers ? userEvent.setup({ advanceTimers: vi.advanceTimersByTime }) : userEvent.setup();
  return { backend, inbox, view, input, send, user };
}

/** An option's text, spaces normalised: "Maya Ruiz @maya.ruiz". */
const text = (el: Element) => (el.textContent ?? '').replace(/\s+/g, ' ').trim();

const noteSwitch = () => screen.getByRole('button', { name: 'Note' });
const replySwitch = () => screen.getByRole('button', { name: 'Reply' });

describe('Composer: internal notes', () => {
  it('switches to Note: visibly different, labelled, and says it is not sent to the customer', async () => {
    const { input, send, user } = await setup();
    expect(replySwitch()).toHaveAttribute('aria-pressed', 'true');
    expect(noteSwitch()).toHaveAttribute('aria-pressed', 'false');
    expect(screen.queryByTestId('note-hint')).not.toBeInTheDocument();
    expect(input).toHaveAccessibleName('Reply');

    await user.click(noteSwitch());

    expect(noteSwitch()).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('note-hint')).toHaveTextContent('Internal note — not sent to the customer');
    expect(input.closest('form')).toHaveClass('note');
    expect(input).toHaveAccessibleName('Internal note');
    expect(input).toHaveAccessibleDescription(/Internal note — not sent to the customer/);
    expect(input).toHaveFocus();
    expect(send).toHaveTextContent('Add note');
    // Notes carry no file and no buttons.
    expect(screen.queryByRole('button', { name: 'Attach a file' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Add reply buttons' })).not.toBeInTheDocument();

    await user.click(replySwitch());
    expect(screen.queryByTestId('note-hint')).not.toBeInTheDocument();
    expect(send).toHaveTextContent('Send');
  });

  it('adds the note with add_note, never as a reply, and shows it at once', async () => {
    const { backend, input, user } = await setup();
    await user.click(noteSwitch());
    await user.type(input, 'Customer is a VIP, be generous{Enter}');

    expect(backend.addNote).toHaveBeenCalledWith(1, 'Customer is a VIP, be generous');
    expect(backend.sendReply).not.toHaveBeenCalled();
    // The customer's typing indicator is for replies only.
    expect(backend.typing).not.toHaveBeenCalled();
    await waitFor(() => expect(input).toHaveValue(''));
    const notes = screen.getAllByTestId('internal-note');
    expect(notes.at(-1)).toHaveTextContent('Customer is a VIP, be generous');
    expect(noteSwitch()).toHaveAttribute('aria-pressed', 'true');
  });

  it('keeps the note and shows the error when adding it fails', async () => {
    const { backend, input, user } = await setup();
    backend.failures.set('addNote', new BackendError('forbidden', 'no'));
    await user.click(noteSwitch());
    await user.type(input, 'Check the refund{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'forbidden');
    expect(input).toHaveValue('Check the refund');
  });

  it('notes can be left on a conversation waiting in the queue', async () => {
    const { backend, input, user } = await setup('waiting');
    expect(input).toBeDisabled();
    await user.click(noteSwitch());
    expect(input).toBeEnabled();
    expect(screen.queryByTestId('composer-blocked')).not.toBeInTheDocument();
    await user.type(input, 'Looks like a duplicate of #88{Enter}');
    expect(backend.addNote).toHaveBeenCalledWith(1, 'Looks like a duplicate of #88');
  });

  it('quoting a message switches back to Reply', async () => {
    const { user } = await setup();
    await user.click(noteSwitch());
    await user.click(within(screen.getAllByTestId('message')[0]).getByRole('button', { name: 'Reply to this message' }));
    await waitFor(() => expect(replySwitch()).toHaveAttribute('aria-pressed', 'true'));
    expect(screen.getByTestId('reply-bar')).toBeInTheDocument();
  });
});

describe('Composer: @mentions in notes', () => {
  it('lists matching colleagues (not you) and inserts @handle with Enter', async () => {
    const { backend, input, user } = await setup();
    await user.click(noteSwitch());
    await waitFor(() => expect(backend.agents).toHaveBeenCalledTimes(1));
    await user.type(input, 'cc @ma');

    const list = screen.getByRole('listbox', { name: 'Colleagues to mention' });
    expect(input).toHaveAttribute('aria-expanded', 'true');
    expect(input).toHaveAttribute('aria-controls', 'composer-suggestions');
    const options = within(list).getAllByRole('option');
    expect(options.map(text)).toEqual(['Maya Ruiz @maya.ruiz']);
    expect(options[0]).toHaveAttribute('aria-selected', 'true');
    expect(input).toHaveAttribute('aria-activedescendant', options[0].id);

    await user.keyboard('{Enter}');
    expect(input).toHaveValue('cc @maya.ruiz ');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    expect(input).toHaveAttribute('aria-expanded', 'false');
    // Enter picked; it did not send.
    expect(backend.addNote).not.toHaveBeenCalled();

    await user.type(input, 'please check{Enter}');
    expect(backend.addNote).toHaveBeenCalledWith(1, 'cc @maya.ruiz please check');
    expect(backend.agents).toHaveBeenCalledTimes(1);
  });

  it('arrow keys choose, Tab inserts; by first name or email local part', async () => {
    const { input, user } = await setup();
    await user.click(noteSwitch());
    await user.type(input, '@');
    const options = () => within(screen.getByRole('listbox')).getAllByRole('option');
    await waitFor(() => expect(options()).toHaveLength(3));
    expect(options().map((o) => o.querySelector('.s-main')?.textContent)).toEqual(['Ben Okafor', 'Maya Ruiz', 'Olga Kim']);

    await user.keyboard('{ArrowDown}');
    expect(options()[1]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(options()[0]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowUp}');
    expect(options()[2]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{Tab}');
    expect(input).toHaveValue('@olga.k ');
    expect(input).toHaveFocus();

    await user.type(input, 'and @BE');
    expect(within(screen.getByRole('listbox')).getAllByRole('option').map(text)).toEqual(['Ben Okafor @ben']);
  });

  it('a click inserts; Escape closes the list without sending', async () => {
    const { backend, input, user } = await setup();
    await user.click(noteSwitch());
    await user.type(input, 'ask @');
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(3));
    await user.click(screen.getByRole('option', { name: /Ben Okafor/ }));
    expect(input).toHaveValue('ask @ben ');
    expect(input).toHaveFocus();

    await user.type(input, '@m');
    expect(screen.getByRole('listbox')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    expect(input).toHaveValue('ask @ben @m');
    expect(backend.addNote).not.toHaveBeenCalled();
  });

  it('says when nobody matches, and offers nothing after an email address or in replies', async () => {
    const { input, user } = await setup();
    await user.click(noteSwitch());
    await user.type(input, '@zed');
    expect(screen.getByTestId('suggestions-empty')).toHaveTextContent('No colleague matches.');
    await user.clear(input);
    await user.type(input, 'mail help@acme');
    expect(screen.queryByTestId('suggestions')).not.toBeInTheDocument();

    await user.click(replySwitch());
    await user.clear(input);
    await user.type(input, 'Hi @ma');
    expect(screen.queryByTestId('suggestions')).not.toBeInTheDocument();
  });
});

describe('Composer: saved replies with /', () => {
  it('typing / lists saved replies, filtered by shortcut or title', async () => {
    const { backend, input, user } = await setup();
    await user.type(input, '/');
    const list = await screen.findByRole('listbox', { name: 'Saved replies' });
    await waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(3));
    expect(backend.cannedResponses).toHaveBeenCalledTimes(1);
    expect(text(within(list).getAllByRole('option')[0])).toBe('/hello Greeting');

    await user.type(input, 'ref');
    expect(within(screen.getByRole('listbox')).getAllByRole('option').map(text)).toEqual(['/refund Refund policy']);
    await user.clear(input);
    await user.type(input, '/clos');
    expect(screen.getAllByRole('option').map(text)).toEqual(['/thanks Closing']);
    expect(backend.cannedResponses).toHaveBeenCalledTimes(1);
  });

  it('picking one renders it for this conversation and puts the text in the box', async () => {
    const { backend, input, user } = await setup();
    await user.type(input, '/hel');
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(1));
    await user.keyboard('{Enter}');

    expect(backend.renderCanned).toHaveBeenCalledWith(1, 1);
    await waitFor(() => expect(input).toHaveValue('Hi Maria Lopez, thanks for reaching out!'));
    expect(screen.queryByTestId('canned-missing')).not.toBeInTheDocument();
    expect(backend.sendReply).not.toHaveBeenCalled();
    expect(input).toHaveFocus();

    await user.keyboard('{Enter}');
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'Hi Maria Lopez, thanks for reaching out!');
  });

  it('warns about variables it could not fill in', async () => {
    const { input, user } = await setup();
    await user.type(input, '/refund');
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(1));
    await user.click(screen.getByRole('option'));
    await waitFor(() => expect(input).toHaveValue('Your refund for order  is on its way.'));
    const warning = screen.getByTestId('canned-missing');
    expect(warning).toHaveAttribute('role', 'status');
    expect(warning).toHaveTextContent('Not filled in: contact.order.');
    await user.click(within(warning).getByRole('button', { name: /Dismiss/ }));
    expect(screen.queryByTestId('canned-missing')).not.toBeInTheDocument();
  });

  it('keeps what was typed when rendering fails', async () => {
    const { backend, input, user } = await setup();
    backend.failures.set('renderCanned', new BackendError('not_found', 'gone'));
    await user.type(input, '/hello');
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(1));
    await user.keyboard('{Enter}');
    const alert = await screen.findByTestId('canned-error');
    expect(alert).toHaveAttribute('data-error-code', 'not_found');
    expect(input).toHaveValue('/hello');
  });

  it('Escape closes the list, so a message may start with /', async () => {
    const { backend, input, user } = await setup();
    await user.type(input, '/shrug');
    expect(screen.getByTestId('suggestions-empty')).toHaveTextContent('No saved reply matches.');
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('suggestions')).not.toBeInTheDocument();
    await user.keyboard('{Enter}');
    expect(backend.sendReply).toHaveBeenCalledWith(1, '/shrug');
  });

  it('only at the start of a reply, and not in notes', async () => {
    const { input, user } = await setup();
    await user.type(input, 'see /hello');
    expect(screen.queryByTestId('suggestions')).not.toBeInTheDocument();
    await user.clear(input);
    await user.click(noteSwitch());
    await user.type(input, '/hello');
    expect(screen.queryByTestId('suggestions')).not.toBeInTheDocument();
  });

  it('Enter while the saved replies load does not send the search', async () => {
    const { backend, input, user } = await setup();
    let release!: () => void;
    backend.cannedResponses.mockImplementationOnce(
      () => new Promise((resolve) => (release = () => resolve(savedReplies))),
    );
    await user.type(input, '/hello');
    expect(screen.getByTestId('suggestions')).toHaveTextContent('Loading saved replies…');
    await user.keyboard('{Enter}');
    expect(backend.sendReply).not.toHaveBeenCalled();
    release();
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(1));
  });

  it('says when the saved replies cannot be loaded', async () => {
    const { backend, input, user } = await setup();
    backend.failures.set('cannedResponses', new BackendError('network', 'down'));
    await user.type(input, '/');
    const alert = await within(screen.getByTestId('suggestions')).findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'network');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(3));
  });
});

describe('Composer: presence', () => {
  afterEach(() => vi.useRealTimers());

  it('typing (at most every 5 s), then a draft when the agent stops, viewing once sent', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { backend, input, user } = await setup('assigned', { timers: true });
    const states = () => backend.setPresence.mock.calls.map(([, state]) => state);
    expect(backend.setPresence.mock.calls).toEqual([[1, 'viewing']]);

    await user.type(input, 'Hello');
    expect(states()).toEqual(['viewing', 'typing']);
    vi.advanceTimersByTime(TYPING_EVERY_MS - 1000);
    await user.type(input, ' Ma');
    expect(states()).toEqual(['viewing', 'typing']);
    vi.advanceTimersByTime(1000);
    await user.type(input, 'ria');
    expect(states()).toEqual(['viewing', 'typing', 'typing']);

    await vi.advanceTimersByTimeAsync(DRAFT_AFTER_MS);
    expect(states()).toEqual(['viewing', 'typing', 'typing', 'draft']);

    await user.keyboard('{Enter}');
    await waitFor(() => expect(input).toHaveValue(''));
    expect(states().at(-1)).toBe('viewing');
    expect(backend.setPresence).toHaveBeenCalledWith(1, 'viewing');
  });

  it('clearing the box without sending is back to viewing', async () => {
    const { backend, input, user } = await setup();
    await user.type(input, 'Hi');
    await user.clear(input);
    expect(backend.setPresence.mock.calls.map(([, s]) => s)).toEqual(['viewing', 'typing', 'viewing']);
  });

  it('presence failures never get in the way', async () => {
    const { backend, input, user } = await setup();
    backend.failures.set('setPresence', new BackendError('network', 'down'));
    await user.type(input, 'Hi{Enter}');
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'Hi');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
