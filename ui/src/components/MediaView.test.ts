import { describe, expect, it } from 'vitest';
import { cleanup, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import MessageContent from './MessageContent.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import type { MediaInfo, Message } from '../lib/types';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, agent, detail, message } from '../test/fixtures';
import { WA, inbound, wa } from '../test/whatsapp';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

const ready = (overrides: Partial<MediaInfo> = {}): MediaInfo => ({
  status: 'ready',
  mime_type: null,
  size: null,
  error: null,
  ...overrides,
});

/** Shows `messages` (ids 1..n) in the thread; the backend serves `urls` by message id. */
async function show(messages: Message[], urls: Record<number, string> = {}) {
  const d = detail({
    messages: messages.map((m, i) => ({ ...m, id: i + 1, sent_at: NOW - (messages.length - i) * 60_000 })),
    handoffs: [],
  });
  const backend = new FakeBackend({ details: [d] });
  for (const [id, url] of Object.entries(urls)) backend.mediaUrls.set(Number(id), url);
  const inbox = new Inbox(backend);
  await inbox.start();
  await inbox.select(d.conversation.id);
  render(Thread, { inbox });
  return { backend, inbox, messages: screen.queryAllByTestId('message') };
}

describe('Media messages', () => {
  it('a ready image shows the file from the backend, described by who sent it', async () => {
    const { backend, messages } = await show([inbound(wa(WA.image), { media: ready({ mime_type: 'image/jpeg', size: 2048 }) })], {
      1: PNG,
    });
    const container = within(messages[0]).getByTestId('media');
    expect(container).toHaveAttribute('data-media-status', 'ready');
    const img = await within(container).findByRole('img', { name: 'Photo from Maria Lopez' });
    expect(img).toHaveAttribute('src', PNG);
    expect(backend.media).toHaveBeenCalledWith(1);
    expect(within(messages[0]).queryByText('Preview not available yet')).not.toBeInTheDocument();
  });

  it('the caption is the alt text; a sticker is "Sticker"', async () => {
    const { messages } = await show(
      [
        inbound(wa(WA.image, { id: 'wamid.i', image: { mime_type: 'image/jpeg', id: '1', caption: 'My receipt' } }), { media: ready() }),
        inbound(wa(WA.animatedSticker, { id: 'wamid.s' }), { media: ready() }),
      ],
      { 1: PNG, 2: 'data:image/webp;base64,UklGRg==' },
    );
    expect(await within(messages[0]).findByRole('img', { name: 'My receipt' })).toHaveAttribute('src', PNG);
    expect(await within(messages[1]).findByRole('img', { name: 'Sticker' })).toHaveAttribute(
      'src',
      'data:image/webp;base64,UklGRg==',
    );
  });

  it('clicking an image opens it full size; Escape or Close closes it and focus returns', async () => {
    const user = userEvent.setup();
    const { messages } = await show([inbound(wa(WA.image), { media: ready() })], { 1: PNG });
    const img = await within(messages[0]).findByRole('img', { name: 'Photo from Maria Lopez' });
    const thumb = img.closest('button')!;

    await user.click(thumb);
    const dialog = screen.getByRole('dialog', { name: 'Photo from Maria Lopez' });
    expect(within(dialog).getByRole('img')).toHaveAttribute('src', PNG);
    const close = within(dialog).getByRole('button', { name: 'Close' });
    await waitFor(() => expect(close).toHaveFocus());

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await waitFor(() => expect(thumb).toHaveFocus());

    await user.click(thumb);
    await user.click(screen.getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('loads each file once, across thread reloads and new renders', async () => {
    const { backend, inbox, messages } = await show([inbound(wa(WA.image), { media: ready() })], { 1: PNG });
    await within(messages[0]).findByRole('img');

    backend.emitChange([]);
    await waitFor(() => expect(backend.getThread).toHaveBeenCalledTimes(2));
    cleanup();
    render(Thread, { inbox });
    expect(await screen.findByRole('img', { name: 'Photo from Maria Lopez' })).toHaveAttribute('src', PNG);
    expect(backend.media).toHaveBeenCalledTimes(1);
  });

  it('pending: the card says "Fetching…" and nothing is loaded', async () => {
    const { backend, messages } = await show([
      inbound(wa(WA.image), { media: { status: 'pending', mime_type: null, size: null, error: null } }),
    ]);
    const container = within(messages[0]).getByTestId('media');
    expect(container).toHaveAttribute('data-media-status', 'pending');
    const card = within(container).getByTestId('media-card');
    expect(card).toHaveTextContent('Photo');
    expect(within(card).getByRole('status')).toHaveTextContent('Fetching…');
    expect(card).not.toHaveTextContent('Preview not available yet');
    expect(messages[0].querySelector('img')).toBeNull();
    expect(backend.media).not.toHaveBeenCalled();
  });

  it("failed: the card says it couldn't fetch the file, and why", async () => {
    const { backend, messages } = await show([
      inbound(wa(WA.document), {
        media: { status: 'failed', mime_type: null, size: null, error: 'Media download failed: 404' },
      }),
    ]);
    const container = within(messages[0]).getByTestId('media');
    expect(container).toHaveAttribute('data-media-status', 'failed');
    const card = within(container).getByTestId('document-card');
    expect(card).toHaveTextContent('filename.pdf');
    expect(card).toHaveTextContent("Couldn't fetch the file");
    expect(card).toHaveTextContent('Media download failed: 404');
    expect(within(messages[0]).queryByRole('link')).not.toBeInTheDocument();
    expect(backend.media).not.toHaveBeenCalled();
  });

  it('a ready document is a download link with the file name and size', async () => {
    const url = 'data:application/pdf;base64,JVBERi0=';
    const { messages } = await show(
      [inbound(wa(WA.document), { media: ready({ mime_type: 'application/pdf', size: 1_258_291 }) })],
      { 1: url },
    );
    const card = await within(messages[0]).findByTestId('document-card');
    expect(card).toHaveTextContent('filename.pdf');
    expect(card).toHaveTextContent('1.2 MB');
    const link = await within(card).findByRole('link', { name: 'Download filename.pdf' });
    expect(link).toHaveAttribute('href', url);
    expect(link).toHaveAttribute('download', 'filename.pdf');
    expect(within(messages[0]).getByTestId('message-text')).toHaveTextContent('caption');
  });

  it('ready audio and video play in the page', async () => {
    const { messages } = await show(
      [
        inbound(wa(WA.voice, { id: 'wamid.v' }), { media: ready() }),
        inbound(wa(WA.video, { id: 'wamid.m' }), { media: ready() }),
      ],
      { 1: 'data:audio/ogg;base64,T2dnUw==', 2: 'data:video/mp4;base64,AAAA' },
    );
    await waitFor(() => expect(messages[0].querySelector('audio')).not.toBeNull());
    const audio = messages[0].querySelector('audio')!;
    expect(audio).toHaveAttribute('src', 'data:audio/ogg;base64,T2dnUw==');
    expect(audio).toHaveAttribute('controls');
    expect(within(messages[0]).getByTestId('audio-card')).toHaveTextContent('Voice message');

    await waitFor(() => expect(messages[1].querySelector('video')).not.toBeNull());
    const video = messages[1].querySelector('video')!;
    expect(video).toHaveAttribute('src', 'data:video/mp4;base64,AAAA');
    expect(video).toHaveAttribute('controls');
    expect(video).toHaveAccessibleName('caption');
  });

  it('when loading the file fails, the friendly message for the error shows instead', async () => {
    const d = detail({ messages: [inbound(wa(WA.image), { id: 1, media: ready() })], handoffs: [] });
    const backend = new FakeBackend({ details: [d] });
    backend.failures.set('media', new BackendError('forbidden', 'HTTP 403'));
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(d.conversation.id);
    render(Thread, { inbox });
    const error = await screen.findByTestId('media-error');
    expect(error).toHaveTextContent("You don't have permission to do that.");
    expect(error).toHaveAttribute('data-code', 'forbidden');
    expect(screen.queryByRole('img')).not.toBeInTheDocument();
  });

  it('outbound media the agent sent shows exactly like inbound media, quote included', async () => {
    const doc = 'data:application/pdf;base64,JVBERi0=';
    const { backend, messages } = await show(
      [
        inbound(wa(WA.text, { id: 'wamid.q', text: { body: 'Can you send the receipt?' } })),
        message({
          wamid: 'wamid.out1',
          direction: 'outbound',
          author: 'agent',
          agent_id: agent.id,
          kind: 'image',
          text: 'Your receipt',
          status: 'delivered',
          content: { type: 'image', image: { caption: 'Your receipt', mime_type: 'image/png' }, context: { id: 'wamid.q' } },
          media: ready({ mime_type: 'image/png', size: 2048 }),
        }),
        message({
          wamid: 'wamid.out2',
          direction: 'outbound',
          author: 'agent',
          agent_id: agent.id,
          kind: 'document',
          text: 'invoice.pdf',
          status: 'sent',
          content: { type: 'document', document: { mime_type: 'application/pdf', filename: 'invoice.pdf' } },
          media: { status: 'ready', mime_type: 'application/pdf', size: 1_258_291 } as MediaInfo,
        }),
      ],
      { 2: PNG, 3: doc },
    );
    const image = within(messages[1]).getByTestId('media');
    expect(image).toHaveAttribute('data-media-status', 'ready');
    expect(await within(image).findByRole('img', { name: 'Your receipt' })).toHaveAttribute('src', PNG);
    expect(within(messages[1]).getByTestId('message-text')).toHaveTextContent('Your receipt');
    expect(within(messages[1]).getByTestId('reply-quote')).toHaveTextContent('Can you send the receipt?');

    const card = await within(messages[2]).findByTestId('document-card');
    expect(card).toHaveTextContent('invoice.pdf');
    expect(card).toHaveTextContent('1.2 MB');
    expect(await within(card).findByRole('link', { name: 'Download invoice.pdf' })).toHaveAttribute('href', doc);
    expect(backend.media.mock.calls.map(([id]) => id).sort()).toEqual([2, 3]);
  });

  it('without media info, or without a backend, the card stays as before', async () => {
    render(MessageContent, { props: { message: inbound(wa(WA.image), { media: ready() }) } });
    expect(screen.getByTestId('media-card')).toHaveTextContent('Preview not available yet');
    cleanup();
    const { messages } = await show([inbound(wa(WA.image))]);
    expect(within(messages[0]).queryByTestId('media')).not.toBeInTheDocument();
    expect(within(messages[0]).getByTestId('media-card')).toHaveTextContent('Preview not available yet');
  });
});
