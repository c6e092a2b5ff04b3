import { describe, expect, it } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import MessageContent from './MessageContent.svelte';
import { Inbox } from '../lib/inbox.svelte';
import type { Message } from '../lib/types';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, agent, detail, message } from '../test/fixtures';
import { TEMPLATE, WA, inbound, wa } from '../test/whatsapp';

/** Messages one minute apart, in the order given. */
function inOrder(...messages: Message[]): Message[] {
  return messages.map((m, i) => ({ ...m, id: i + 1, sent_at: NOW - (messages.length - i) * 60_000 }));
}

async function show(...messages: Message[]): Promise<HTMLElement[]> {
  const d = detail({ messages: inOrder(...messages), handoffs: [] });
  const inbox = new Inbox(new FakeBackend({ details: [d] }));
  await inbox.start();
  await inbox.select(d.conversation.id);
  render(Thread, { inbox });
  return screen.queryAllByTestId('message');
}

/** The single message shown for `m`. */
async function showOne(m: Message): Promise<HTMLElement> {
  const [el, ...rest] = await show(m);
  expect(rest).toHaveLength(0);
  return el;
}

const agentText = (wamid: string, text: string) =>
  message({ wamid, direction: 'outbound', author: 'agent', agent_id: agent.id, text, status: 'read' });

describe('MessageContent: every WhatsApp type', () => {
  it('text: the body, with author, status and kind attributes', async () => {
    const el = await showOne(inbound(wa(WA.text), { text: 'Body Text' }));
    expect(el).toHaveAttribute('data-author', 'customer');
    expect(el).toHaveAttribute('data-status', 'received');
    expect(el).toHaveAttribute('data-kind', 'text');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Body Text');
  });

  it('image: a photo card with the mime type and no preview, never loading the media', async () => {
    const el = await showOne(inbound(wa(WA.mediaWithUrl)));
    expect(el).toHaveAttribute('data-kind', 'image');
    const card = within(el).getByTestId('media-card');
    expect(card).toHaveAttribute('data-media', 'image');
    expect(card).toHaveTextContent('Photo');
    expect(card).toHaveTextContent('image/jpeg');
    expect(card).toHaveTextContent('Preview not available yet');
    expect(el.querySelector('img, video, audio, [src]')).toBeNull();
    expect(el.innerHTML).not.toContain('lookaside.fbsbx.com');
  });

  it('video: "Video" with its caption and mime type', async () => {
    const el = await showOne(inbound(wa(WA.video), { text: 'caption' }));
    expect(within(el).getByTestId('media-card')).toHaveTextContent(/Video.*video\/mp4.*Preview not available yet/);
    expect(within(el).getByTestId('message-text')).toHaveTextContent('caption');
  });

  it('sticker: "Sticker", animated or not', async () => {
    const el = await showOne(inbound(wa(WA.animatedSticker)));
    const card = within(el).getByTestId('media-card');
    expect(card).toHaveAttribute('data-media', 'sticker');
    expect(card).toHaveTextContent('Sticker');
    expect(card).toHaveTextContent('Animated');
    expect(card).toHaveTextContent('image/webp');
  });

  it('audio: "Voice message" for voice notes, "Audio" otherwise, with a disabled player', async () => {
    const [voice, audio] = await show(inbound(wa(WA.voice, { id: 'wamid.v' })), inbound(wa(WA.audio, { id: 'wamid.a' })));
    expect(within(voice).getByTestId('audio-card')).toHaveTextContent('Voice message');
    expect(within(voice).getByTestId('audio-card')).toHaveAttribute('data-voice', 'true');
    expect(within(audio).getByTestId('audio-card')).toHaveTextContent('Audio');
    expect(within(audio).getByTestId('audio-card')).not.toHaveTextContent('Voice message');
    expect(within(audio).getByTestId('audio-card')).toHaveTextContent('audio/ogg; codecs=opus');
    const play = within(voice).getByRole('button', { name: /play voice message/i });
    expect(play).toBeDisabled();
  });

  it('document: file name, mime type and caption', async () => {
    const el = await showOne(inbound(wa(WA.document)));
    const card = within(el).getByTestId('document-card');
    expect(card).toHaveTextContent('filename.pdf');
    expect(card).toHaveTextContent('application/pdf');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('caption');
  });

  it('location: name, address, coordinates and an OpenStreetMap link', async () => {
    const [chosen, current] = await show(
      inbound(wa(WA.chosenLocation, { id: 'wamid.l1' })),
      inbound(wa(WA.currentLocation, { id: 'wamid.l2' })),
    );
    const card = within(chosen).getByTestId('location-card');
    expect(card).toHaveTextContent('Facebook HQ');
    expect(card).toHaveTextContent('1 Hacker Way, Menlo Park, CA 94025');
    expect(within(chosen).getByTestId('location-coordinates')).toHaveTextContent('37.4611978, -122.2164385');
    const link = within(chosen).getByRole('link', { name: 'Open in maps' });
    expect(link).toHaveAttribute('href', 'https://www.openstreetmap.org/?mlat=37.4611978&mlon=-122.2164385');
    expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    expect(link).toHaveAttribute('target', '_blank');
    // the map URL the customer's phone sent is not offered
    expect(chosen.innerHTML).not.toContain('maps.google.com');

    expect(within(current).getByTestId('location-card')).toHaveTextContent('Location');
    expect(within(current).getByTestId('location-coordinates')).toHaveTextContent('12.25089, 43.90539');
    expect(within(current).getByRole('link', { name: 'Open in maps' })).toHaveAttribute(
      'href',
      'https://www.openstreetmap.org/?mlat=12.25089&mlon=43.90539',
    );
  });

  it('contacts: each shared contact with its phone numbers', async () => {
    const el = await showOne(inbound(wa(WA.contacts)));
    const cards = within(el).getAllByTestId('shared-contact');
    expect(cards).toHaveLength(3);
    expect(cards[0]).toHaveTextContent('Chandler Bing');
    expect(cards[0]).toHaveTextContent('+1 555-555-5555');
    expect(cards[0]).toHaveTextContent('Mobile');
    expect(cards[1]).toHaveTextContent('Monica');
    expect(cards[1]).toHaveTextContent('+1 666-666-6666');
    expect(cards[2]).toHaveTextContent('Rachel Green');
    expect(cards[2]).toHaveTextContent('+1 777-777-7777');
    expect(cards[2]).toHaveTextContent('Work');
  });

  it('interactive button_reply: the tapped button, quoting the message it answers', async () => {
    const botQuestion = message({
      wamid: WA.buttonReply.context.id,
      direction: 'outbound',
      author: 'bot',
      text: 'Do you want to cancel your order?',
      status: 'read',
    });
    const [, reply] = await show(botQuestion, inbound(wa(WA.buttonReply), { text: 'Cancel' }));
    expect(reply).toHaveAttribute('data-kind', 'interactive');
    expect(within(reply).getByTestId('message-text')).toHaveTextContent('Cancel');
    expect(reply).toHaveTextContent('Button reply');
    const quote = within(reply).getByTestId('reply-quote');
    expect(quote).toHaveAttribute('data-found', 'true');
    expect(quote).toHaveTextContent('Bot');
    expect(quote).toHaveTextContent('Do you want to cancel your order?');
  });

  it('interactive list_reply: title and description', async () => {
    const el = await showOne(inbound(wa(WA.listReply)));
    expect(within(el).getByTestId('message-text')).toHaveTextContent('title');
    expect(el).toHaveTextContent('List selection');
    expect(el).toHaveTextContent('description');
  });

  it('interactive nfm_reply: "Form submitted" with the response fields, without the flow token', async () => {
    const el = await showOne(inbound(wa(WA.flowCompletion)));
    const form = within(el).getByTestId('flow-reply');
    expect(form).toHaveTextContent('Form submitted');
    const rows = Array.from(form.querySelectorAll('.field'), (f) => [f.querySelector('dt')?.textContent, f.querySelector('dd')?.textContent]);
    expect(rows).toEqual([
      ['Comment text', 'Comment Text'],
      ['Delivery rating', '4'],
      ['Purchase rating', '2'],
      ['Recommend radio', '0'],
      ['Cs rating', '0'],
    ]);
    expect(form).not.toHaveTextContent('AQAAAAACS5FpgQ');
  });

  it('button (template quick reply): the button text', async () => {
    const el = await showOne(inbound(wa(WA.quickReply)));
    expect(el).toHaveAttribute('data-kind', 'button');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('title');
    expect(el).toHaveTextContent('Quick reply');
  });

  it('order: item count, catalog and total', async () => {
    const el = await showOne(inbound(wa(WA.order)));
    const card = within(el).getByTestId('order-card');
    expect(card).toHaveTextContent('Order');
    expect(card).toHaveTextContent('7 items'); // 3 + 2 + 2
    expect(card).toHaveTextContent('Catalog 354160437058781');
    expect(card).toHaveTextContent('3 × HAMBURGER');
    // 3 × 30 + 2 × 35 + 2 × 10 = 180 ILS
    const total = within(card).getByTestId('order-total');
    expect(total.textContent).toMatch(/180/);
    expect(total.textContent).toMatch(/ILS|₪/);
  });

  it('system: a centred line with the body', async () => {
    const el = await showOne(inbound(wa(WA.numberChange)));
    expect(el).toHaveClass('center');
    expect(el).toHaveAttribute('data-kind', 'system');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('User A changed from 972987654321 to 972912345678');
  });

  it("unsupported: says so with Meta's reason", async () => {
    const [plain, withType] = await show(
      inbound(wa(WA.unsupported, { id: 'wamid.u1' })),
      inbound(wa(WA.unsupportedWithType, { id: 'wamid.u2' })),
    );
    expect(within(plain).getByTestId('message-text')).toHaveTextContent('Unsupported message');
    expect(within(plain).getByTestId('unsupported-reason')).toHaveTextContent(
      'Message type unknown — Message type is currently not supported.',
    );
    expect(within(withType).getByTestId('message-text')).toHaveTextContent('Unsupported message (pool)');
  });

  it('outbound template: its name and the filled body parameters', async () => {
    const el = await showOne(
      message({
        direction: 'outbound',
        author: 'bot',
        kind: 'template',
        text: '[template lead_followup] Sam, pro',
        content: structuredClone(TEMPLATE),
        status: 'delivered',
      }),
    );
    expect(el).toHaveAttribute('data-kind', 'template');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Template: lead_followup');
    const params = within(el).getByRole('list', { name: 'Template values' });
    expect(Array.from(params.querySelectorAll('li'), (li) => li.textContent)).toEqual(['Sam', 'pro']);
    expect(within(el).getByTestId('message-status')).toHaveTextContent('Delivered');
  });

  it('outbound interactive buttons: the body, then the buttons as chips that do nothing here', async () => {
    const el = await showOne(
      message({
        direction: 'outbound',
        author: 'agent',
        agent_id: agent.id,
        kind: 'interactive',
        text: 'Did this solve it?',
        status: 'delivered',
        content: {
          type: 'interactive',
          interactive: {
            type: 'button',
            body: { text: 'Did this solve it?' },
            action: {
              buttons: [
                { type: 'reply', reply: { id: 'btn-1', title: 'Yes, thanks' } },
                { type: 'reply', reply: { id: 'btn-2', title: 'No' } },
              ],
            },
          },
        },
      }),
    );
    expect(el).toHaveAttribute('data-kind', 'interactive');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Did this solve it?');
    const buttons = within(el).getByRole('list', { name: 'Reply buttons' });
    expect(within(buttons).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Yes, thanks', 'No']);
    // chips, not controls: the customer taps them, not the agent
    expect(within(buttons).queryByRole('button')).not.toBeInTheDocument();
    expect(el).not.toHaveTextContent('Unsupported message');
  });

  it('outbound interactive list: the body, the list button and each section with its rows', async () => {
    const el = await showOne(
      message({
        direction: 'outbound',
        author: 'bot',
        kind: 'interactive',
        text: 'Pick a delivery slot',
        status: 'read',
        content: {
          type: 'interactive',
          interactive: {
            type: 'list',
            body: { text: 'Pick a delivery slot' },
            action: {
              button: 'See slots',
              sections: [
                {
                  title: 'Tomorrow',
                  rows: [
                    { id: 't9', title: '9:00–12:00', description: 'Morning' },
                    { id: 't13', title: '13:00–17:00' },
                  ],
                },
                { title: 'Friday', rows: [{ id: 'f9', title: '9:00–12:00', description: 'Free delivery' }] },
              ],
            },
          },
        },
      }),
    );
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Pick a delivery slot');
    const list = within(el).getByTestId('interactive-list');
    expect(within(list).getByTestId('list-button')).toHaveTextContent('See slots');
    const sections = within(list).getAllByTestId('list-section');
    expect(sections).toHaveLength(2);
    expect(sections[0]).toHaveTextContent('Tomorrow');
    const rows = within(sections[0]).getAllByTestId('list-row');
    expect(rows.map((r) => r.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['9:00–12:00 Morning', '13:00–17:00']);
    expect(within(sections[1]).getByRole('list', { name: 'Friday' })).toHaveTextContent('Free delivery');
    expect(within(list).queryByRole('button')).not.toBeInTheDocument();
  });

  it('unknown kinds: "Unsupported message (<kind>)"', async () => {
    const el = await showOne(inbound({ id: 'wamid.h', type: 'hologram', hologram: { x: 1 }, new_field: true }));
    expect(el).toHaveAttribute('data-kind', 'hologram');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Unsupported message (hologram)');
  });
});

describe('MessageContent: context', () => {
  it('a reply quotes the message it answers', async () => {
    const original = message({ wamid: 'wamid.xyzxyz==', text: 'Where is my order #88?' });
    const [, reply] = await show(original, inbound(wa(WA.reply), { text: 'replied text' }));
    const quote = within(reply).getByTestId('reply-quote');
    expect(quote).toHaveAttribute('data-found', 'true');
    expect(quote).toHaveTextContent('Maria Lopez');
    expect(quote).toHaveTextContent('Where is my order #88?');
    expect(within(reply).getByTestId('message-text')).toHaveTextContent('replied text');
  });

  it('a quote summarises media, and activating it highlights the quoted message', async () => {
    const user = userEvent.setup();
    const photo = inbound(wa(WA.image, { id: 'wamid.photo', image: { mime_type: 'image/jpeg', caption: 'my receipt' } }));
    const answer = agentText('wamid.answer', 'Thanks, got it');
    answer.content = { context: { id: 'wamid.photo' } };
    const [photoEl, answerEl] = await show(photo, answer);
    const quote = within(answerEl).getByTestId('reply-quote');
    expect(quote).toHaveTextContent('Photo · my receipt');
    await user.click(quote);
    expect(photoEl).toHaveClass('flash');
    expect(photoEl).toHaveFocus();
  });

  it('a reply to a message not in the thread says so', async () => {
    const el = await showOne(inbound(wa(WA.reply)));
    const quote = within(el).getByTestId('reply-quote');
    expect(quote).toHaveAttribute('data-found', 'false');
    expect(quote).toHaveTextContent('Replying to an earlier message');
  });

  it('forwarded and frequently forwarded messages are marked', async () => {
    const [once, many, plain] = await show(
      inbound(wa(WA.forwarded, { id: 'wamid.f1' })),
      inbound(wa(WA.forwardedManyTimes, { id: 'wamid.f2' })),
      inbound(wa(WA.text, { id: 'wamid.f3' })),
    );
    expect(within(once).getByTestId('forwarded')).toHaveTextContent(/^Forwarded$/);
    expect(within(many).getByTestId('forwarded')).toHaveTextContent('Forwarded many times');
    expect(within(plain).queryByTestId('forwarded')).not.toBeInTheDocument();
  });

  it('a click-to-WhatsApp referral shows the ad it came from', async () => {
    const el = await showOne(inbound(wa(WA.referral)));
    const card = within(el).getByTestId('referral');
    expect(card).toHaveTextContent('AD_TITLE');
    expect(card).toHaveTextContent('AD_DESCRIPTION');
    expect(card).toHaveTextContent('AD_OR_POST_FB_URL');
    // not a usable URL, so not a link; raw image URLs are never loaded
    expect(within(card).queryByRole('link')).not.toBeInTheDocument();
    expect(el.innerHTML).not.toContain('RAW_IMAGE_URL');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('BODY');
  });

  it('a referral with a web address links to it safely', async () => {
    const content = wa(WA.referral, {
      referral: { source_type: 'ad', source_url: 'https://fb.me/3cr4Wqqkv', headline: 'Spring sale', body: '20% off' },
    });
    const el = await showOne(inbound(content));
    const card = within(el).getByTestId('referral');
    expect(card).toHaveTextContent('From an ad');
    const link = within(card).getByRole('link');
    expect(link).toHaveAttribute('href', 'https://fb.me/3cr4Wqqkv');
    expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    expect(link).toHaveAttribute('target', '_blank');
  });

  it('a javascript: referral URL is not a link', async () => {
    const content = wa(WA.referral, { referral: { source_url: 'javascript:alert(1)', headline: 'x' } });
    const el = await showOne(inbound(content));
    expect(within(el).queryByRole('link')).not.toBeInTheDocument();
  });
});

describe('MessageContent: reactions, edits and deletions', () => {
  const target = () => agentText('wamid.yzxyzx=', 'Your refund is on its way');

  it('a reaction is a chip under the message it reacts to, not a bubble', async () => {
    const messages = await show(target(), inbound(wa(WA.reaction), { text: '😮' }));
    expect(messages).toHaveLength(1);
    const chips = within(messages[0]).getAllByTestId('reaction');
    expect(chips).toHaveLength(1);
    expect(chips[0].textContent).toBe('😮');
    expect(chips[0]).toHaveAccessibleName('Maria Lopez reacted 😮');
  });

  it("a later reaction from the same sender replaces the earlier one; another sender's stays", async () => {
    const messages = await show(
      target(),
      inbound(wa(WA.reaction, { id: 'wamid.r1' })),
      message({
        wamid: 'wamid.r2',
        direction: 'outbound',
        author: 'agent',
        kind: 'reaction',
        text: null,
        content: { type: 'reaction', reaction: { message_id: 'wamid.yzxyzx=', emoji: '🙏' } },
      }),
      inbound(wa(WA.reaction, { id: 'wamid.r3', reaction: { message_id: 'wamid.yzxyzx=', emoji: '👍' } })),
    );
    expect(messages).toHaveLength(1);
    const chips = within(messages[0]).getAllByTestId('reaction');
    // one chip per side, the latest reaction last
    expect(chips.map((c) => [c.dataset.from, c.textContent])).toEqual([
      ['outbound', '🙏'],
      ['inbound', '👍'],
    ]);
  });

  it('an empty or missing emoji removes the reaction', async () => {
    for (const removal of [WA.unreactionEmpty, WA.unreactionNoEmoji]) {
      const messages = await show(target(), inbound(wa(WA.reaction, { id: 'wamid.r1' })), inbound(wa(removal, { id: 'wamid.r2' })));
      expect(messages).toHaveLength(1);
      expect(within(messages[0]).queryByTestId('reaction')).not.toBeInTheDocument();
      cleanup();
    }
  });

  it('a reaction to a message not in the thread is a system line', async () => {
    const content = wa(WA.reaction, { reaction: { message_id: 'wamid.gone', emoji: '👍' } });
    const el = await showOne(inbound(content));
    expect(el).toHaveClass('center');
    expect(el).toHaveAttribute('data-kind', 'reaction');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Reacted 👍 to an earlier message');
  });

  it('an edit changes the original message and marks it edited', async () => {
    const original = inbound(
      wa(WA.image, {
        id: WA.editImage.edit.original_message_id,
        image: { mime_type: 'image/jpeg', id: '1', caption: 'Old caption' },
      }),
    );
    const messages = await show(original, inbound(wa(WA.editImage)));
    expect(messages).toHaveLength(1);
    const el = messages[0];
    expect(el).toHaveAttribute('data-edited', 'true');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Updated image caption');
    expect(el).not.toHaveTextContent('Old caption');
    expect(within(el).getByTestId('message-edited')).toHaveTextContent('edited');
    expect(within(el).getByTestId('media-card')).toHaveTextContent('Photo');
    // the edit's own context (pywa's "M0") does not turn it into a reply
    expect(within(el).queryByTestId('reply-quote')).not.toBeInTheDocument();
  });

  it('a text edit shows the new text; the latest edit wins', async () => {
    const original = inbound(wa(WA.text, { id: 'wamid.zzzzzz', text: { body: 'See you at 5' } }));
    const edit = (id: string, body: string) =>
      inbound({ id, type: 'edit', edit: { original_message_id: 'wamid.zzzzzz', message: { type: 'text', text: { body } } } });
    const messages = await show(original, edit('wamid.e1', 'See you at 6'), edit('wamid.e2', 'See you at 7'));
    expect(messages).toHaveLength(1);
    expect(within(messages[0]).getByTestId('message-text')).toHaveTextContent('See you at 7');
    expect(within(messages[0]).getByTestId('message-edited')).toBeInTheDocument();
  });

  it('an edit of a message not in the thread is a system line with the new text', async () => {
    const el = await showOne(inbound(wa(WA.editImage)));
    expect(el).toHaveClass('center');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Edited an earlier message: “Updated image caption”');
  });

  it('a deletion greys the original out as "This message was deleted"', async () => {
    const original = inbound(wa(WA.text, { id: '<ORIGINAL_WHATSAPP_MESSAGE_ID>', text: { body: 'my card number is 4111…' } }));
    const messages = await show(
      original,
      inbound(wa(WA.reaction, { id: 'wamid.r', reaction: { message_id: '<ORIGINAL_WHATSAPP_MESSAGE_ID>', emoji: '👍' } })),
      inbound(wa(WA.revoke)),
    );
    expect(messages).toHaveLength(1);
    const el = messages[0];
    expect(el).toHaveAttribute('data-deleted', 'true');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('This message was deleted');
    expect(el).not.toHaveTextContent('4111');
    expect(el.querySelector('.bubble')).toHaveClass('deleted');
    expect(within(el).queryByTestId('reaction')).not.toBeInTheDocument();
  });

  it('a deletion of a message not in the thread is a system line', async () => {
    const el = await showOne(inbound(wa(WA.revoke)));
    expect(el).toHaveClass('center');
    expect(el).toHaveAttribute('data-kind', 'revoke');
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Deleted an earlier message');
  });

  it("the customer cannot edit or delete the agent's message", async () => {
    const mine = agentText('wamid.mine', 'Your code is 1234');
    const messages = await show(
      mine,
      inbound({ id: 'wamid.x', type: 'revoke', revoke: { original_message_id: 'wamid.mine' } }),
    );
    expect(messages).toHaveLength(2);
    expect(within(messages[0]).getByTestId('message-text')).toHaveTextContent('Your code is 1234');
    expect(messages[0]).not.toHaveAttribute('data-deleted');
    expect(messages[1]).toHaveTextContent('Deleted an earlier message');
  });
});

describe('MessageContent: odd content never breaks the thread', () => {
  const odd: [string, Partial<Message>][] = [
    ['null content', { kind: 'image', content: null }],
    ['string content', { kind: 'location', content: 'lat=1' }],
    ['array content', { kind: 'contacts', content: [1, 2] }],
    ['number content', { kind: 'text', content: 42, text: 'still here' }],
    ['type object of the wrong type', { kind: 'image', content: { type: 'image', image: 'oops' } }],
    ['text body not a string', { kind: 'text', content: { type: 'text', text: { body: { nested: true } } } }],
    ['bad coordinates', { kind: 'location', content: { location: { latitude: 'north', longitude: null } } }],
    ['contacts not a list', { kind: 'contacts', content: { contacts: 'Chandler' } }],
    ['contacts with junk', { kind: 'contacts', content: { contacts: [null, 3, { name: 'x', phones: 'y' }] } }],
    ['order with junk items', { kind: 'order', content: { order: { product_items: [null, 5, { quantity: 'lots', currency: 12 }] } } }],
    ['order with a bad currency', { kind: 'order', content: { order: { product_items: [{ item_price: 5, quantity: 1, currency: 'NOT A CODE' }] } } }],
    ['interactive without its object', { kind: 'interactive', content: wa(WA.interactiveWithError) }],
    ['interactive as a list', { kind: 'interactive', content: { interactive: [] } }],
    ['flow reply that is not JSON', { kind: 'interactive', content: { interactive: { type: 'nfm_reply', nfm_reply: { response_json: '{oops' } } } }],
    ['unsupported with odd errors', { kind: 'unsupported', content: { errors: [null, 'x'] } }],
    ['reaction without target', { kind: 'reaction', content: { reaction: null } }],
    ['edit as a number', { kind: 'edit', content: { edit: 42 } }],
    ['revoke without its object', { kind: 'revoke', content: {} }],
    ['system without body', { kind: 'system', content: { system: [] } }],
    ['template with junk components', { kind: 'template', direction: 'outbound', author: 'bot', content: { name: 'x', components: [null, { type: 'body', parameters: 'no' }] } }],
    ['template without a name', { kind: 'template', direction: 'outbound', author: 'bot', content: { components: [] } }],
    ['context and referral of the wrong types', { kind: 'text', text: 'hi', content: { context: 'reply', referral: [1], text: null } }],
    ['empty kind', { kind: '', content: { type: 'sticker', sticker: {} } }],
  ];

  it.each(odd)('%s', async (_name, overrides) => {
    const messages = await show(message({ text: null, ...overrides }));
    expect(messages).toHaveLength(1);
    expect(messages[0].textContent?.trim()).not.toBe('');
  });

  it('content from an older server (none at all) shows the summary text as before', async () => {
    const [withText, without] = await show(
      message({ kind: 'image', text: 'a caption', content: undefined }),
      message({ kind: 'audio', text: null, content: undefined }),
    );
    expect(within(withText).getByTestId('message-text')).toHaveTextContent('a caption');
    expect(within(without).getByTestId('message-text')).toHaveTextContent('Unsupported message (audio)');
  });
});

describe('MessageContent on its own', () => {
  it('renders without a reply or quote handler', () => {
    render(MessageContent, { props: { message: inbound(wa(WA.chosenLocation)) } });
    expect(screen.getByRole('link', { name: 'Open in maps' })).toBeInTheDocument();
  });

  it('renders the quote as a button only when the quoted message is in the thread', () => {
    render(MessageContent, {
      props: { message: inbound(wa(WA.text)), reply: { targetId: 5, author: 'You', text: 'Hello' } },
    });
    expect(screen.getByRole('button', { name: /Replying to You Hello/ })).toHaveAttribute('data-target-id', '5');
  });
});
