import { afterEach, describe, expect, it, vi } from 'vitest';
import { tick } from 'svelte';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError, friendlyMessage } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, conversation, detail, message } from '../test/fixtures';
import type { ConversationState } from '../lib/types';

async function setup(state: ConversationState = 'assigned') {
  const d = detail({
    conversation: conversation({
      state,
      assignee_id: state === 'assigned' ? 7 : null,
      active_handoff_id: state === 'automation' ? null : 100,
    }),
  });
  const backend = new FakeBackend({ details: [d] });
  const inbox = new Inbox(backend);
  await inbox.start();
  await inbox.select(1);
  render(Thread, { inbox });
  const input = document.querySelector<HTMLTextAreaElement>('#composer-input')!;
  const send = document.querySelector<HTMLButtonElement>('#send-reply')!;
  return { backend, inbox, input, send, user: userEvent.setup() };
}

describe('Composer', () => {
  it('opening your own conversation marks it read; typing shows the indicator, throttled', async () => {
    const { backend, user, input } = await setup();
    expect(backend.markRead).toHaveBeenCalledWith(1);
    await user.type(input, 'Hi there');
    expect(backend.typing).toHaveBeenCalledTimes(1);
    expect(backend.typing).toHaveBeenCalledWith(1);
  });

  it('marks read once per newest customer message while the thread is open', async () => {
    const { backend, inbox } = await setup();
    expect(backend.markRead).toHaveBeenCalledTimes(1);
    await inbox.loadThread(1);
    expect(backend.markRead).toHaveBeenCalledTimes(1);
    const d = backend.threads.get(1)!;
    const last = d.messages.find((m) => m.direction === 'inbound')!;
    const newest = Math.max(...d.messages.map((m) => m.sent_at));
    d.messages.push({ ...last, id: 999, wamid: 'wamid.new', sent_at: newest + 1000, text: 'one more thing' });
    await inbox.loadThread(1);
    expect(backend.markRead).toHaveBeenCalledTimes(2);
  });

  it('does not mark read a conversation that is not yours', async () => {
    const { backend } = await setup('waiting');
    expect(backend.markRead).not.toHaveBeenCalled();
  });

  it('is disabled while waiting for assignment and says why', async () => {
    const { input, send } = await setup('waiting');
    expect(input).toBeDisabled();
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-blocked')).toHaveTextContent('Waiting for assignment');
  });

  it('is disabled while the bot handles the conversation and says why', async () => {
    const { input, send } = await setup('automation');
    expect(input).toBeDisabled();
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-blocked')).toHaveTextContent('Bot is handling this conversation');
    expect(document.querySelector('#resolve')).not.toBeInTheDocument();
  });

  it('sends on Enter, clears the input and shows the pending message at once', async () => {
    const { backend, input, send, user } = await setup();
    expect(input).toBeEnabled();
    expect(send).toBeDisabled(); // empty
    await user.type(input, 'Hello Maria');
    expect(send).toBeEnabled();
    await user.keyboard('{Enter}');

    expect(backend.sendReply).toHaveBeenCalledWith(1, 'Hello Maria');
    await waitFor(() => expect(input).toHaveValue(''));
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(last).toHaveAttribute('data-author', 'agent');
    expect(last).toHaveAttribute('data-status', 'queued');
    expect(within(last).getByTestId('message-text')).toHaveTextContent('Hello Maria');
    // and the thread was refreshed afterwards
    await waitFor(() => expect(backend.getThread).toHaveBeenCalledTimes(2));
  });

  it('Shift+Enter inserts a newline instead of sending', async () => {
    const { backend, input, user } = await setup();
    await user.type(input, 'line one{Shift>}{Enter}{/Shift}line two');
    expect(input).toHaveValue('line one\nline two');
    expect(backend.sendReply).not.toHaveBeenCalled();
    await user.click(document.querySelector('#send-reply')!);
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'line one\nline two');
  });

  it('warns above 4096 characters and disables Send', async () => {
    const { backend, input, send } = await setup();
    await fireEvent.input(input, { target: { value: 'a'.repeat(4096) } });
    expect(send).toBeEnabled();
    expect(screen.getByTestId('char-counter')).toHaveTextContent('4096 / 4096');
    expect(screen.queryByTestId('composer-too-long')).not.toBeInTheDocument();

    await fireEvent.input(input, { target: { value: 'a'.repeat(4097) } });
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-too-long')).toHaveTextContent('4096 characters at most');
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(backend.sendReply).not.toHaveBeenCalled();
  });

  it('keeps the text and shows the friendly error when sending fails', async () => {
    const { backend, input, user } = await setup();
    backend.failures.set('sendReply', new BackendError('not_assignee', 'assigned to agent 9'));
    await user.type(input, 'Hi{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'not_assignee');
    expect(alert).toHaveTextContent('assigned to someone else');
    expect(input).toHaveValue('Hi');
  });

  it('resolves with an optional note and explains the return to automation', async () => {
    const { backend, user } = await setup();
    await user.click(document.querySelector('#resolve')!);
    const note = document.querySelector<HTMLInputElement>('#resolve-note')!;
    expect(note).toHaveAccessibleName(/Resolution note/);
    await user.type(note, 'Refund issued');
    await user.click(document.querySelector('#resolve-confirm')!);

    expect(backend.resolve).toHaveBeenCalledWith(1, 'Refund issued');
    await waitFor(() =>
      expect(screen.getByTestId('composer-blocked')).toHaveTextContent('went back to automation'),
    );
    expect(document.querySelector('#composer-input')).toBeDisabled();
    expect(document.querySelector('#resolve')).not.toBeInTheDocument();
    expect(screen.getByTestId('escalation-panel')).toHaveAttribute('data-handoff-status', 'resolved');
  });

  it('resolves with a null note when left empty', async () => {
    const { backend, user } = await setup();
    await user.click(document.querySelector('#resolve')!);
    await user.click(document.querySelector('#resolve-confirm')!);
    expect(backend.resolve).toHaveBeenCalledWith(1, null);
  });
});

describe('Composer: the 24-hour reply window', () => {
  afterEach(() => vi.useRealTimers());

  const HOUR = 3_600_000;
  const MINUTE = 60_000;
  /** `last_inbound_at` that leaves `left` ms of the window at NOW. */
  const leaving = (left: number) => NOW - 24 * HOUR + left;

  async function open(lastInboundAt: number | null, state: ConversationState = 'assigned') {
    const d = detail({
      conversation: conversation({
        state,
        assignee_id: state === 'assigned' ? 7 : null,
        active_handoff_id: state === 'automation' ? null : 100,
        last_inbound_at: lastInboundAt,
      }),
    });
    const backend = new FakeBackend({ details: [d] });
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    render(Thread, { inbox });
    return {
      backend,
      input: document.querySelector<HTMLTextAreaElement>('#composer-input')!,
      send: document.querySelector<HTMLButtonElement>('#send-reply')!,
    };
  }

  function fakeClock() {
    vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  }

  async function advance(ms: number) {
    await vi.advanceTimersByTimeAsync(ms);
    await tick();
  }

  it('shows the time left while open and updates it every minute', async () => {
    fakeClock();
    const { input } = await open(leaving(3 * HOUR + 12 * MINUTE));
    const countdown = screen.getByTestId('window-countdown');
    expect(countdown).toHaveTextContent('Window closes in 3h 12m');
    expect(countdown).toHaveAttribute('data-soon', 'false');
    expect(countdown).not.toHaveClass('soon');
    expect(screen.queryByTestId('window-closed')).not.toBeInTheDocument();
    expect(input).toBeEnabled();

    await advance(MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 3h 11m');
    await advance(11 * MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 3h');
  });

  it('turns amber in the last hour', async () => {
    fakeClock();
    await open(leaving(HOUR + MINUTE));
    const countdown = screen.getByTestId('window-countdown');
    expect(countdown).toHaveTextContent('Window closes in 1h 1m');
    expect(countdown).not.toHaveClass('soon');

    await advance(MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 1h');
    expect(screen.getByTestId('window-countdown')).toHaveClass('soon');
    expect(screen.getByTestId('window-countdown')).toHaveAttribute('data-soon', 'true');
    await advance(15 * MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 45m');
  });

  it('closes when the time runs out, keeping the draft', async () => {
    fakeClock();
    const { input, send } = await open(leaving(90_000));
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 2m');
    await fireEvent.input(input, { target: { value: 'One more thing' } });
    expect(send).toBeEnabled();

    await advance(30_000);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 1m');
    await advance(MINUTE);
    expect(screen.queryByTestId('window-countdown')).not.toBeInTheDocument();
    expect(screen.getByTestId('window-closed')).toBeInTheDocument();
    expect(input).toBeDisabled();
    expect(input).toHaveValue('One more thing');
    expect(send).toBeDisabled();
  });

  it.each([
    ['the customer never wrote', null],
    ['the customer last wrote more than 24 hours ago', Date.now() - 25 * 3_600_000],
  ])('is closed when %s: free text is disabled and the reason shown', async (_case, lastInboundAt) => {
    const { backend, input, send } = await open(lastInboundAt);
    const closed = screen.getByTestId('window-closed');
    expect(closed).toHaveTextContent(friendlyMessage('window_closed'));
    expect(closed).toHaveTextContent("It's been more than 24 hours since the customer last wrote");
    expect(screen.queryByTestId('window-countdown')).not.toBeInTheDocument();
    expect(input).toBeDisabled();
    expect(input).toHaveAccessibleDescription(friendlyMessage('window_closed'));
    expect(send).toBeDisabled();
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(backend.sendReply).not.toHaveBeenCalled();
    // the agent can still resolve the handoff
    expect(document.querySelector('#resolve')).toBeEnabled();
    expect(screen.getByTestId('composer')).toHaveAttribute('data-blocked', 'true');
  });

  it('opens again when the customer writes', async () => {
    const { backend, input } = await open(null);
    expect(input).toBeDisabled();
    backend.threads.get(1)!.conversation.last_inbound_at = Date.now();
    backend.emitChange([1]);
    await waitFor(() => expect(screen.getByTestId('window-countdown')).toHaveTextContent(/Window closes in 2[34]h/));
    expect(screen.queryByTestId('window-closed')).not.toBeInTheDocument();
    expect(input).toBeEnabled();
  });

  it('is not shown while the bot handles the conversation', async () => {
    await open(null, 'automation');
    expect(screen.queryByTestId('window-closed')).not.toBeInTheDocument();
    expect(screen.queryByTestId('window-countdown')).not.toBeInTheDocument();
    expect(screen.getByTestId('composer-blocked')).toHaveTextContent('Bot is handling this conversation');
  });

  it('shows the friendly message when the server says the window closed', async () => {
    const user = userEvent.setup();
    const { backend, input } = await open(Date.now() - 5 * 60_000);
    backend.failures.set('sendReply', new BackendError('window_closed', 'outside the 24h window'));
    await user.type(input, 'Hi{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'window_closed');
    expect(alert).toHaveTextContent(friendlyMessage('window_closed'));
  });
});

/** A file of `size` bytes (the bytes are 0..255 repeating, so that their content can be checked). */
function makeFile(name: string, type: string, size = 2048): File {
  const bytes = new Uint8Array(Math.min(size, 4096));
  for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
  const file = new File([bytes], name, { type });
  // Big files without the memory: only the checks read `size` before the upload.
  if (size !== bytes.length) Object.defineProperty(file, 'size', { value: size });
  return file;
}

const fileInput = () => screen.getByTestId('file-input') as HTMLInputElement;
const replyBar = () => screen.queryByTestId('reply-bar');

describe('Composer: quoted replies', () => {
  it('Reply on a message shows the quote bar; Send passes its id, then the bar clears and the reply quotes it', async () => {
    const { backend, input, user } = await setup();
    const first = screen.getAllByTestId('message')[0];
    await user.click(within(first).getByRole('button', { name: 'Reply to this message' }));

    expect(replyBar()).toHaveTextContent('Replying to Maria Lopez: Hi, where is my order?');
    expect(replyBar()).toHaveAttribute('data-message-id', '1');
    expect(input).toHaveFocus();
    expect(input).toHaveAccessibleDescription(/Replying to Maria Lopez: Hi, where is my order\?/);

    await user.type(input, 'It ships today{Enter}');
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'It ships today', 1);
    await waitFor(() => expect(replyBar()).not.toBeInTheDocument());
    expect(input).toHaveValue('');
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(within(last).getByTestId('message-text')).toHaveTextContent('It ships today');
    const quote = within(last).getByTestId('reply-quote');
    expect(quote).toHaveAttribute('data-target-id', '1');
    expect(quote).toHaveTextContent('Hi, where is my order?');
  });

  it('Escape or ✕ cancels the reply; the next message then quotes nothing', async () => {
    const { backend, input, user } = await setup();
    const messages = screen.getAllByTestId('message');
    await user.click(within(messages[1]).getByRole('button', { name: 'Reply to this message' }));
    expect(replyBar()).toHaveTextContent('Replying to Bot: Let me check that for you.');
    await user.keyboard('{Escape}');
    expect(replyBar()).not.toBeInTheDocument();

    await user.click(within(messages[4]).getByRole('button', { name: 'Reply to this message' }));
    expect(replyBar()).toHaveTextContent('Replying to You: Hi Maria, I am on it.');
    await user.click(screen.getByRole('button', { name: 'Cancel reply' }));
    expect(replyBar()).not.toBeInTheDocument();
    expect(input).toHaveFocus();

    await user.type(input, 'Hi{Enter}');
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'Hi');
  });

  it('the Reply action is a keyboard-reachable button, only on messages WhatsApp can quote', async () => {
    const d = detail();
    d.messages.push(message({ id: -1, wamid: null, direction: 'outbound', author: 'agent', status: 'queued', text: 'pending' }));
    const backend = new FakeBackend({ details: [d] });
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    render(Thread, { inbox });
    const user = userEvent.setup();

    const has = screen.getAllByTestId('message').map((m) => [
      m.dataset.messageId,
      within(m).queryByRole('button', { name: 'Reply to this message' }) !== null,
    ]);
    // the system line, the failed message and the one still sending cannot be quoted
    expect(has).toEqual([
      ['1', true],
      ['2', true],
      ['3', true],
      ['4', false],
      ['5', true],
      ['6', false],
      ['7', true],
      ['-1', false],
    ]);

    const action = within(screen.getAllByTestId('message')[2]).getByRole('button', { name: 'Reply to this message' });
    expect(action).not.toHaveAttribute('tabindex');
    action.focus();
    await user.keyboard('{Enter}');
    expect(replyBar()).toHaveTextContent('Replying to Maria Lopez: I want to talk to a person');
  });

  it('is not offered while the bot handles the conversation', async () => {
    await setup('automation');
    expect(screen.queryAllByRole('button', { name: 'Reply to this message' })).toHaveLength(0);
  });

  it('a failed send keeps the quote and the text', async () => {
    const { backend, input, user } = await setup();
    backend.failures.set('sendReply', new BackendError('conflict', 'not on WhatsApp yet'));
    await user.click(within(screen.getAllByTestId('message')[0]).getByRole('button', { name: 'Reply to this message' }));
    await user.type(input, 'Sure{Enter}');
    expect(await screen.findByRole('alert')).toHaveAttribute('data-error-code', 'conflict');
    expect(replyBar()).toHaveTextContent('Hi, where is my order?');
    expect(input).toHaveValue('Sure');
  });
});

describe('Composer: attachments', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('attaching with the paperclip shows a chip; Send uploads the file with the text as caption', async () => {
    const { backend, input, send, user } = await setup();
    const attachButton = screen.getByRole('button', { name: 'Attach a file' });
    expect(fileInput().accept).toContain('image/jpeg');
    expect(fileInput().accept).toContain('application/pdf');
    expect(fileInput().accept).toContain('.docx');
    await user.click(attachButton);
    await user.upload(fileInput(), makeFile('receipt.png', 'image/png', 2048));

    const chip = screen.getByTestId('attachment-chip');
    expect(within(chip).getByTestId('attachment-name')).toHaveTextContent('receipt.png');
    expect(within(chip).getByTestId('attachment-size')).toHaveTextContent('2 KB');
    expect(input).toHaveAccessibleName('Caption');
    expect(send).toBeEnabled(); // a caption is optional

    await user.type(input, 'Your receipt');
    await user.click(send);
    // reading the file is asynchronous
    await waitFor(() => expect(backend.sendAttachment).toHaveBeenCalledTimes(1));
    const [conversationId, file, caption, replyTo] = backend.sendAttachment.mock.calls[0];
    expect([conversationId, file.name, file.type, caption, replyTo]).toEqual([1, 'receipt.png', 'image/png', 'Your receipt', null]);
    expect(file.bytes).toBeInstanceOf(Uint8Array);
    expect(file.bytes.length).toBe(2048);
    expect(file.bytes[300]).toBe(300 & 0xff);
    expect(backend.sendReply).not.toHaveBeenCalled();

    await waitFor(() => expect(screen.queryByTestId('attachment-chip')).not.toBeInTheDocument());
    expect(input).toHaveValue('');
    expect(input).toHaveAccessibleName('Reply');
    // the sent image shows through MediaView, like inbound media
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(last).toHaveAttribute('data-kind', 'image');
    const img = await within(last).findByRole('img', { name: 'Your receipt' });
    expect(img.getAttribute('src')).toMatch(/^data:image\/png;base64,AAECAwQF/);
  });

  it('a quoted reply with a file passes the quoted id', async () => {
    const { backend, send, user } = await setup();
    await user.click(within(screen.getAllByTestId('message')[0]).getByRole('button', { name: 'Reply to this message' }));
    await user.upload(fileInput(), makeFile('label.pdf', 'application/pdf'));
    await user.click(send);
    await waitFor(() =>
      expect(backend.sendAttachment).toHaveBeenCalledWith(1, expect.objectContaining({ name: 'label.pdf' }), '', 1),
    );
    await waitFor(() => expect(replyBar()).not.toBeInTheDocument());
  });

  it.each([
    ['an image over 5 MB', makeFile('photo.jpg', 'image/jpeg', 6 * 1024 * 1024), 'images of at most 5 MB'],
    ['a video over 16 MB', makeFile('clip.mp4', 'video/mp4', 17 * 1024 * 1024), 'videos of at most 16 MB'],
    ['a document over 100 MB', makeFile('huge.pdf', 'application/pdf', 101 * 1024 * 1024), 'documents of at most 100 MB'],
    ['a GIF', makeFile('funny.gif', 'image/gif'), "WhatsApp can't send this kind of file"],
    ['a ZIP', makeFile('files.zip', 'application/zip'), 'Send a JPEG or PNG image, an MP4 video, an audio file, or a PDF/Office/text document.'],
  ])('refuses %s before any upload, saying why', async (_case, file, words) => {
    const { backend, send } = await setup();
    const user = userEvent.setup({ applyAccept: false });
    await user.upload(fileInput(), file);
    const refusal = screen.getByTestId('attach-refusal');
    expect(refusal).toHaveTextContent(words);
    expect(refusal).toHaveAttribute('role', 'alert');
    expect(screen.queryByTestId('attachment-chip')).not.toBeInTheDocument();
    expect(send).toBeDisabled();
    expect(backend.sendAttachment).not.toHaveBeenCalled();
  });

  it('while uploading it is busy; an error keeps the file and the caption for a retry', async () => {
    const { backend, input, send, user } = await setup();
    await user.upload(fileInput(), makeFile('invoice.pdf', 'application/pdf'));
    await user.type(input, 'Invoice attached');

    let fail: (err: unknown) => void = () => {};
    backend.sendAttachment.mockImplementationOnce(() => new Promise((_resolve, reject) => (fail = reject)));
    await user.click(send);
    const chip = screen.getByTestId('attachment-chip');
    await waitFor(() => expect(within(chip).getByRole('status')).toHaveTextContent('Uploading…'));
    expect(chip).toHaveAttribute('aria-busy', 'true');
    expect(send).toHaveTextContent('Uploading…');
    expect(send).toBeDisabled();
    expect(within(chip).getByRole('button', { name: 'Remove attachment' })).toBeDisabled();

    await waitFor(() => expect(backend.sendAttachment).toHaveBeenCalledTimes(1));
    fail(new BackendError('unsupported_media_type', 'application/pdf is not allowed here'));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'unsupported_media_type');
    expect(alert).toHaveTextContent(friendlyMessage('unsupported_media_type'));
    expect(screen.getByTestId('attachment-chip')).toHaveTextContent('invoice.pdf');
    expect(input).toHaveValue('Invoice attached');
    expect(send).toHaveTextContent('Send');

    // try again: this time it goes
    await user.click(send);
    await waitFor(() => expect(screen.queryByTestId('attachment-chip')).not.toBeInTheDocument());
    expect(backend.sendAttachment).toHaveBeenCalledTimes(2);
    expect(backend.sendAttachment).toHaveBeenLastCalledWith(1, expect.objectContaining({ name: 'invoice.pdf' }), 'Invoice attached', null);
  });

  it('pasting or dropping a file attaches it; ✕ removes it', async () => {
    const { backend, input, user } = await setup();
    await fireEvent.paste(input, { clipboardData: { files: [makeFile('screenshot.png', 'image/png')], getData: () => '' } });
    expect(screen.getByTestId('attachment-chip')).toHaveTextContent('screenshot.png');
    await user.click(screen.getByRole('button', { name: 'Remove attachment' }));
    expect(screen.queryByTestId('attachment-chip')).not.toBeInTheDocument();

    // pasting text is still just text
    await fireEvent.paste(input, { clipboardData: { files: [], getData: () => 'hello' } });
    expect(screen.queryByTestId('attachment-chip')).not.toBeInTheDocument();

    const composer = screen.getByTestId('composer');
    const dataTransfer = { files: [makeFile('Report.docx', '', 5000)], types: ['Files'], dropEffect: 'none' };
    await fireEvent.dragOver(composer, { dataTransfer });
    expect(composer).toHaveClass('dragging');
    await fireEvent.drop(composer, { dataTransfer });
    expect(composer).not.toHaveClass('dragging');
    expect(screen.getByTestId('attachment-chip')).toHaveTextContent('Report.docx');
    expect(screen.getByTestId('attachment-chip')).toHaveAttribute('data-kind', 'document');
    await user.click(document.querySelector('#send-reply')!);
    await waitFor(() =>
      expect(backend.sendAttachment).toHaveBeenCalledWith(
        1,
        expect.objectContaining({
          name: 'Report.docx',
          type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        }),
        '',
        null,
      ),
    );
  });

  it('an image shows a thumbnail from an object URL, revoked when removed or unmounted', async () => {
    let n = 0;
    const createObjectURL = vi.fn(() => `blob:preview-${++n}`);
    const revokeObjectURL = vi.fn();
    vi.stubGlobal('URL', Object.assign(class extends URL {}, { createObjectURL, revokeObjectURL }));
    const { input, user } = await setup();

    await user.upload(fileInput(), makeFile('a.png', 'image/png'));
    expect(screen.getByTestId('attachment-preview')).toHaveAttribute('src', 'blob:preview-1');
    expect(screen.getByRole('img', { name: 'Preview of a.png' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Remove attachment' }));
    expect(revokeObjectURL).toHaveBeenCalledWith('blob:preview-1');

    // documents have an icon, not a preview
    await user.upload(fileInput(), makeFile('a.pdf', 'application/pdf'));
    expect(screen.queryByTestId('attachment-preview')).not.toBeInTheDocument();
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    await user.click(screen.getByRole('button', { name: 'Remove attachment' }));

    await fireEvent.paste(input, { clipboardData: { files: [makeFile('b.jpg', 'image/jpeg')], getData: () => '' } });
    expect(screen.getByTestId('attachment-preview')).toHaveAttribute('src', 'blob:preview-2');
    cleanup();
    expect(revokeObjectURL).toHaveBeenCalledWith('blob:preview-2');
  });

  it('WhatsApp audio has no caption: Send waits until the text is cleared', async () => {
    const { input, send, user } = await setup();
    await user.upload(fileInput(), makeFile('note.mp3', 'audio/mpeg'));
    await user.type(input, 'listen');
    expect(send).toBeDisabled();
    expect(screen.getByTestId('caption-problem')).toHaveTextContent("audio messages can't have a caption");
    await user.clear(input);
    expect(send).toBeEnabled();
  });

  it('a caption is at most 1024 characters', async () => {
    const { input, send, user } = await setup();
    await user.upload(fileInput(), makeFile('a.png', 'image/png'));
    await fireEvent.input(input, { target: { value: 'a'.repeat(1025) } });
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-too-long')).toHaveTextContent('1024 characters at most in a caption');
    expect(screen.getByTestId('char-counter')).toHaveTextContent('1025 / 1024');
  });

  it('follows the 24-hour window: no attaching while it is closed', async () => {
    const d = detail({ conversation: conversation({ last_inbound_at: Date.now() - 25 * 3_600_000 }) });
    const backend = new FakeBackend({ details: [d] });
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    render(Thread, { inbox });
    expect(screen.getByRole('button', { name: 'Attach a file' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Add reply buttons' })).toBeDisabled();
    const input = document.querySelector<HTMLTextAreaElement>('#composer-input')!;
    await fireEvent.paste(input, { clipboardData: { files: [makeFile('a.png', 'image/png')], getData: () => '' } });
    await fireEvent.drop(screen.getByTestId('composer'), {
      dataTransfer: { files: [makeFile('a.png', 'image/png')], types: ['Files'] },
    });
    expect(screen.queryByTestId('attachment-chip')).not.toBeInTheDocument();
    expect(backend.sendAttachment).not.toHaveBeenCalled();
  });

  it('a file chosen in one conversation is not sent in another', async () => {
    const one = detail();
    const two = detail({ conversation: conversation({ id: 2, contact: { id: 12, wa_id: '15551230002', bsuid: null, name: 'Sam' } }) });
    const backend = new FakeBackend({ details: [one, two] });
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    render(Thread, { inbox });
    await userEvent.setup().upload(fileInput(), makeFile('a.png', 'image/png'));
    expect(screen.getByTestId('attachment-chip')).toBeInTheDocument();
    await inbox.select(2);
    await tick();
    expect(screen.queryByTestId('attachment-chip')).not.toBeInTheDocument();
  });
});

describe('Composer: reply buttons', () => {
  const titleInputs = () => [1, 2, 3].map((i) => screen.getByLabelText(`Button ${i} title`) as HTMLInputElement);

  it('the toggle shows three title inputs with counters; Send uses sendInteractive with the trimmed titles', async () => {
    const { backend, input, send, user } = await setup();
    const toggle = screen.getByRole('button', { name: 'Add reply buttons' });
    expect(toggle).toHaveAttribute('aria-pressed', 'false');
    expect(screen.queryByTestId('buttons-editor')).not.toBeInTheDocument();
    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-pressed', 'true');
    const [b1, b2, b3] = titleInputs();
    expect(b1).toHaveFocus();
    expect(screen.getAllByTestId('button-title-count').map((c) => c.textContent)).toEqual(['0/20', '0/20', '0/20']);

    await user.type(input, 'Did this solve it?');
    await user.type(b1, '  Yes, thanks ');
    await user.type(b3, 'No');
    expect(b2).toHaveValue('');
    expect(screen.getAllByTestId('button-title-count').map((c) => c.textContent)).toEqual(['11/20', '0/20', '2/20']);
    await user.click(send);

    expect(backend.sendInteractive).toHaveBeenCalledWith(1, 'Did this solve it?', ['Yes, thanks', 'No'], null);
    expect(backend.sendReply).not.toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByTestId('buttons-editor')).not.toBeInTheDocument());
    expect(input).toHaveValue('');
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(within(last).getByTestId('message-text')).toHaveTextContent('Did this solve it?');
    expect(within(last).getAllByTestId('interactive-button').map((b) => b.textContent)).toEqual(['Yes, thanks', 'No']);
  });

  it('needs a body and at least one distinct title of at most 20 characters', async () => {
    const { backend, input, send, user } = await setup();
    await user.click(screen.getByRole('button', { name: 'Add reply buttons' }));
    const [b1, b2] = titleInputs();
    await user.type(input, 'Pick one');
    expect(send).toBeDisabled();
    expect(screen.getByTestId('buttons-problem')).toHaveTextContent('Add at least one button title.');

    await user.type(b1, 'A title that is too long');
    expect(send).toBeDisabled();
    expect(b1).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getAllByTestId('button-title-count')[0]).toHaveTextContent('24/20');
    expect(screen.getByTestId('buttons-problem')).toHaveTextContent('at most 20 characters');

    await user.clear(b1);
    await user.type(b1, 'Same');
    await user.type(b2, ' Same ');
    expect(send).toBeDisabled();
    expect(screen.getByTestId('buttons-problem')).toHaveTextContent('Each button needs a different title.');

    await user.clear(b2);
    expect(send).toBeEnabled();
    await user.clear(input);
    expect(send).toBeDisabled(); // the body is required
    await fireEvent.input(input, { target: { value: 'x'.repeat(1025) } });
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-too-long')).toHaveTextContent('1024 characters at most');
    expect(backend.sendInteractive).not.toHaveBeenCalled();
  });

  it('can quote a message, and closing the buttons sends plain text again', async () => {
    const { backend, input, send, user } = await setup();
    await user.click(within(screen.getAllByTestId('message')[2]).getByRole('button', { name: 'Reply to this message' }));
    const toggle = screen.getByRole('button', { name: 'Add reply buttons' });
    await user.click(toggle);
    await user.type(titleInputs()[0], 'Call me');
    await user.type(input, 'Shall I call you?');
    await user.click(send);
    expect(backend.sendInteractive).toHaveBeenCalledWith(1, 'Shall I call you?', ['Call me'], 3);
    await waitFor(() => expect(replyBar()).not.toBeInTheDocument());

    await user.click(toggle);
    await user.click(toggle);
    await user.type(input, 'Plain again{Enter}');
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'Plain again');
  });

  it('a file and reply buttons do not go together', async () => {
    const { user } = await setup();
    await user.upload(fileInput(), makeFile('a.png', 'image/png'));
    expect(screen.getByRole('button', { name: 'Add reply buttons' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Remove attachment' }));
    await user.click(screen.getByRole('button', { name: 'Add reply buttons' }));
    expect(screen.getByRole('button', { name: 'Attach a file' })).toBeDisabled();
  });
});
