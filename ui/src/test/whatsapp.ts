// Message objects as WhatsApp sends them in webhooks, copied from
// /work/shared/fixtures/whatsapp (pywa's test data, MIT, and Meta's docs).
// `content` of an inbound `Message` is exactly one of these.

import type { Message } from '../lib/types';
import { message } from './fixtures';

type Obj = Record<string, unknown>;

export const WA = {
  text: { from: '972987654321', id: 'wamid.xyzxyz', timestamp: '1697043223', text: { body: 'Body Text' }, type: 'text' },
  image: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697043379',
    type: 'image',
    image: { mime_type: 'image/jpeg', sha256: '4654+8g=', id: '65463453' },
  },
  mediaWithUrl: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697043379',
    type: 'image',
    image: {
      mime_type: 'image/jpeg',
      sha256: '4654+8g=',
      id: '65463453',
      url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=65463453&source=webhook&ext=487r9re&hash=heiwchueowbcew-dnedcw',
    },
  },
  video: {
    context: { forwarded: true },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044362',
    type: 'video',
    video: { caption: 'caption', mime_type: 'video/mp4', sha256: 'Jh+2ij6PzUv/J2y+grrtegr/ZMzRxkEPwc24Oyib4s03w9Jc=', id: '765756756' },
  },
  document: {
    context: { forwarded: true },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697043666',
    type: 'document',
    document: {
      caption: 'caption',
      filename: 'filename.pdf',
      mime_type: 'application/pdf',
      sha256: 'grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=',
      id: '1234567890987654321',
    },
  },
  audio: {
    context: { forwarded: true },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697043509',
    type: 'audio',
    audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'E3dxS/PdYZE7ppA3pQ4mpCFaXBJ8pX4SRN/dsfvds/iPGA=', id: '1234567890987654321', voice: false },
  },
  voice: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697043473',
    type: 'audio',
    audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'm04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=', id: '1234567890987654321', voice: true },
  },
  animatedSticker: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697043785',
    type: 'sticker',
    sticker: { mime_type: 'image/webp', sha256: 'HcwyCKrTKXHk0a00ms4HWIA76GY0Du6q4Z/iuwevw=', id: '1234567890987654321', animated: true },
  },
  reaction: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044456',
    type: 'reaction',
    reaction: { message_id: 'wamid.yzxyzx=', emoji: '\u{1F62E}' },
  },
  unreactionEmpty: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044456',
    type: 'reaction',
    reaction: { message_id: 'wamid.yzxyzx=', emoji: '' },
  },
  unreactionNoEmoji: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044456',
    type: 'reaction',
    reaction: { message_id: 'wamid.yzxyzx=' },
  },
  currentLocation: {
    context: { forwarded: true },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044557',
    location: { latitude: 12.25089, longitude: 43.90539 },
    type: 'location',
  },
  chosenLocation: {
    context: { forwarded: true },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044557',
    location: {
      latitude: 37.4611978,
      longitude: -122.2164385,
      name: 'Facebook HQ',
      address: '1 Hacker Way, Menlo Park, CA 94025',
      url: 'https://maps.google.com/?cid=2000000000000000000',
    },
    type: 'location',
  },
  contacts: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044621',
    type: 'contacts',
    contacts: [
      {
        name: { first_name: 'Chandler', last_name: 'Bing', formatted_name: 'Chandler Bing' },
        phones: [{ phone: '+1 555-555-5555', wa_id: '972987654321', type: 'CELL' }],
      },
      { name: { first_name: 'Monica', formatted_name: 'Monica' }, phones: [{ phone: '+1 666-666-6666', wa_id: '972987654321', type: 'HOME' }] },
      {
        name: { first_name: 'Rachel', last_name: 'Green', formatted_name: 'Rachel Green' },
        phones: [{ phone: '+1 777-777-7777', wa_id: '972987654321', type: 'WORK' }],
      },
    ],
  },
  order: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044668',
    type: 'order',
    order: {
      catalog_id: '354160437058781',
      text: '',
      product_items: [
        { product_retailer_id: 'HAMBURGER', quantity: 3, item_price: 30, currency: 'ILS' },
        { product_retailer_id: 'FRENCH_FRIES', quantity: 2, item_price: 35, currency: 'ILS' },
        { product_retailer_id: 'SODA', quantity: 2, item_price: 10, currency: 'ILS' },
      ],
    },
  },
  unsupported: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044706',
    errors: [
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        error_data: { details: 'Message type is currently not supported.' },
      },
    ],
    type: 'unsupported',
  },
  unsupportedWithType: {
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044706',
    errors: [
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        error_data: { details: 'Message type is currently not supported.' },
      },
    ],
    type: 'unsupported',
    unsupported: { type: 'pool' },
  },
  reply: {
    context: { from: '972123456789', id: 'wamid.xyzxyz==' },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044746',
    text: { body: 'replied text' },
    type: 'text',
  },
  forwarded: {
    context: { forwarded: true },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044815',
    text: { body: 'forwarded text' },
    type: 'text',
  },
  forwardedManyTimes: {
    context: { frequently_forwarded: true },
    from: '972987654321',
    id: 'wamid.xyzxyz',
    timestamp: '1697044968',
    text: { body: 'text forwarded many times' },
    type: 'text',
  },
  interactiveWithError: {
    context: { from: '972123456789', id: 'wamid.gvwegfretge==' },
    from: '972987654321',
    id: 'wamid.wegrchytvwcggt=',
    timestamp: '1700505494',
    type: 'interactive',
  },
  referral: {
    referral: {
      source_url: 'AD_OR_POST_FB_URL',
      source_id: 'ADID',
      source_type: 'ad or post',
      headline: 'AD_TITLE',
      body: 'AD_DESCRIPTION',
      media_type: 'image or video',
      image_url: 'RAW_IMAGE_URL',
      video_url: 'RAW_VIDEO_URL',
      thumbnail_url: 'RAW_THUMBNAIL_URL',
      ctwa_clid: 'CTWA_CLID',
    },
    from: '972987654321',
    id: 'wamid.ID',
    timestamp: '1697045000',
    type: 'text',
    text: { body: 'BODY' },
  },
  /** meta-docs/07_meta_interactive_button_reply.json */
  buttonReply: {
    context: { from: '15550783881', id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA' },
    from: '16505551234',
    id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTZBQzg0MzQ4QjRCM0NGNkVGOAA=',
    timestamp: '1750025136',
    type: 'interactive',
    interactive: { type: 'button_reply', button_reply: { id: 'cancel-button', title: 'Cancel' } },
  },
  listReply: {
    context: { from: '1122334455667', id: 'wamid.xyzxyz' },
    from: '972987654321',
    id: 'wamid.zyzxyz',
    timestamp: '1698266905',
    type: 'interactive',
    interactive: { type: 'list_reply', list_reply: { id: 'callback_data', title: 'title', description: 'description' } },
  },
  quickReply: {
    from: '972987654321',
    from_user_id: 'US.13491208655302741918',
    id: 'wamid.xsidjx',
    timestamp: '1698269027',
    type: 'button',
    button: { payload: 'callback_data', text: 'title' },
  },
  flowCompletion: {
    context: { from: '972123456789', id: 'wamid.gvwegfretge==' },
    from: '972987654321',
    id: 'wamid.wegrchytvwcggt==',
    timestamp: '1702502473',
    type: 'interactive',
    interactive: {
      type: 'nfm_reply',
      nfm_reply: {
        response_json:
          '{"comment_text":"Comment Text","delivery_rating":"4","flow_token":"AQAAAAACS5FpgQ_cAAAAAD0QI3s.","purchase_rating":"2","recommend_radio":"0","cs_rating":"0"}',
        body: 'Sent',
        name: 'flow',
      },
    },
  },
  /** pywa/edited_message.json */
  editImage: {
    from: '16505551234',
    id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=',
    timestamp: '1749854575',
    type: 'edit',
    edit: {
      original_message_id: 'wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=',
      message: {
        context: { id: 'M0' },
        type: 'image',
        image: {
          caption: 'Updated image caption',
          mime_type: 'image/jpeg',
          sha256: 'a1b2c3d4e5f6...',
          id: '1234567890',
          url: 'https://media.example.com/updated-image.jpg',
        },
      },
    },
  },
  /** pywa/deleted_message.json */
  revoke: {
    from: '<WHATSAPP_USER_PHONE_NUMBER>',
    id: '<WHATSAPP_MESSAGE_ID>',
    timestamp: '1697043223',
    type: 'revoke',
    revoke: { original_message_id: '<ORIGINAL_WHATSAPP_MESSAGE_ID>' },
  },
  /** pywa/system.json */
  numberChange: {
    from: '972987654321',
    id: 'wamid.xyzxyz==',
    timestamp: '1753851315',
    system: { body: 'User A changed from 972987654321 to 972912345678', wa_id: '972912345678', type: 'user_changed_number' },
    type: 'system',
  },
} satisfies Record<string, Obj>;

/** An outbound template as the server stores it (crates/server/src/leads.rs). */
export const TEMPLATE = {
  name: 'lead_followup',
  language: { code: 'en_US' },
  components: [
    {
      type: 'body',
      parameters: [
        { type: 'text', text: 'Sam' },
        { type: 'text', text: 'pro' },
      ],
    },
  ],
};

/** Deep copy with some fields replaced (timestamps as numbers, as the server stores them). */
export function wa(content: Obj, patch: Obj = {}): Obj {
  const copy = structuredClone(content);
  if (typeof copy.timestamp === 'string') copy.timestamp = Number(copy.timestamp);
  return { ...copy, ...patch };
}

/**
 * An inbound customer message carrying `content`; `kind` and `wamid` come from
 * the content (`type` and `id`) unless overridden.
 */
export function inbound(content: unknown, overrides: Partial<Message> = {}): Message {
  const obj = content !== null && typeof content === 'object' && !Array.isArray(content) ? (content as Obj) : {};
  const fromContent: Partial<Message> = { kind: typeof obj.type === 'string' ? obj.type : 'text', text: null, content };
  if (typeof obj.id === 'string') fromContent.wamid = obj.id;
  return message({ ...fromContent, ...overrides });
}
