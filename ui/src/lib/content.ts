// Reading `Message.content` (Meta's message object, or an outbound template
// object) into something the thread can show. Content comes from the outside
// world: every field may be missing or of the wrong type, so nothing here
// assumes a shape and nothing throws.

import type { MediaInfo, Message } from './types';
import { formatValue, messageBody } from './format';

type Obj = Record<string, unknown>;

/** A plain object, else null (arrays, strings, null...). */
export function asObject(value: unknown): Obj | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : null;
}

/** A non-blank string (finite numbers as text), else null. */
export function asText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A finite number (numeric strings too), else null. */
export function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The content as an object, or null when absent or not an object. */
export function contentOf(message: Message): Obj | null {
  return asObject(message.content);
}

const MEDIA_STATUSES: ReadonlySet<string> = new Set(['pending', 'ready', 'failed']);

/** The message's `media` if it has a known status, else null (absent, older data, junk). */
export function mediaOf(message: Message): MediaInfo | null {
  const media = asObject(message.media);
  if (!media || typeof media.status !== 'string' || !MEDIA_STATUSES.has(media.status)) return null;
  const size = asNumber(media.size);
  return {
    status: media.status as MediaInfo['status'],
    mime_type: asText(media.mime_type),
    size: size !== null && size >= 0 ? size : null,
    error: asText(media.error),
  };
}

/** The WhatsApp type: `kind`, else the content's `type`, else "unknown". */
export function messageKind(message: Message): string {
  return asText(message.kind)?.trim() ?? asText(contentOf(message)?.type)?.trim() ?? 'unknown';
}

/** Kinds that change another message instead of being shown on their own. */
export const ACTION_KINDS: ReadonlySet<string> = new Set(['reaction', 'edit', 'revoke']);

export interface SharedContact {
  name: string;
  phones: { phone: string; type: string | null }[];
}

export interface OrderLine {
  product: string;
  quantity: number;
  price: string | null;
}

export interface ListRowView {
  title: string;
  description: string | null;
}

export interface ListSectionView {
  title: string | null;
  rows: ListRowView[];
}

export type ContentView =
  | { type: 'text'; text: string }
  /** Something we cannot show; `detail` is the server's summary, if any. */
  | { type: 'placeholder'; text: string; detail: string | null }
  | { type: 'media'; kind: 'image' | 'video' | 'sticker'; label: string; caption: string | null; mime: string | null; animated: boolean }
  | { type: 'audio'; label: string; voice: boolean; mime: string | null }
  | { type: 'document'; filename: string | null; mime: string | null; caption: string | null }
  | {
      type: 'location';
      name: string | null;
      address: string | null;
      /** "12.25089, 43.90539", or null when the coordinates are missing or invalid. */
      coordinates: string | null;
      mapUrl: string | null;
    }
  | { type: 'contacts'; contacts: SharedContact[] }
  /** A tapped button or a list choice. */
  | { type: 'choice'; label: string; title: string; description: string | null }
  /** An interactive message we sent: body text with reply buttons (their titles). */
  | { type: 'buttons'; header: string | null; body: string | null; footer: string | null; buttons: string[] }
  /** An interactive message we sent: body text and a list behind the `button` label. */
  | {
      type: 'list';
      header: string | null;
      body: string | null;
      footer: string | null;
      button: string | null;
      sections: ListSectionView[];
    }
  | { type: 'flow'; fields: [string, string][]; note: string | null }
  | { type: 'order'; itemCount: number; catalogId: string | null; total: string | null; lines: OrderLine[]; note: string | null }
  | { type: 'system'; text: string }
  | { type: 'unsupported'; subtype: string | null; reason: string | null }
  | { type: 'template'; name: string; language: string | null; params: string[] };

const MEDIA_LABELS = { image: 'Photo', video: 'Video', sticker: 'Sticker' } as const;

/** What a message shows inside its bubble. */
export function describeContent(message: Message): ContentView {
  const kind = messageKind(message);
  const content = contentOf(message);
  const summary = asText(message.text);
  if (!content) {
    // Older servers sent no content: the summary, else a placeholder (as before).
    if (kind === 'system') return { type: 'system', text: summary ?? 'System message' };
    const body = messageBody(message);
    return body.placeholder ? { type: 'placeholder', text: body.text, detail: null } : { type: 'text', text: body.text };
  }
  const part = asObject(content[kind]);
  switch (kind) {
    case 'text': {
      const body = (typeof part?.body === 'string' && part.body.trim() !== '' ? part.body : null) ?? summary;
      return body !== null ? { type: 'text', text: body } : { type: 'placeholder', text: 'Empty message', detail: null };
    }
    case 'image':
    case 'video':
    case 'sticker':
      return {
        type: 'media',
        kind,
        label: MEDIA_LABELS[kind],
        caption: asText(part?.caption),
        mime: asText(part?.mime_type),
        animated: part?.animated === true,
      };
    case 'audio':
    case 'voice': {
      const voice = kind === 'voice' || part?.voice === true;
      return { type: 'audio', label: voice ? 'Voice message' : 'Audio', voice, mime: asText(part?.mime_type) };
    }
    case 'document':
      return { type: 'document', filename: asText(part?.filename), mime: asText(part?.mime_type), caption: asText(part?.caption) };
    case 'location':
      return location(part);
    case 'contacts':
      return contacts(content.contacts);
    case 'interactive':
      return interactive(part, summary) ?? { type: 'placeholder', text: 'Unsupported message (interactive)', detail: summary };
    case 'button': {
      const title = asText(part?.text) ?? summary;
      return title !== null
        ? { type: 'choice', label: 'Quick reply', title, description: null }
        : { type: 'placeholder', text: 'Unsupported message (button)', detail: null };
    }
    case 'order':
      return order(part);
    case 'system':
      return { type: 'system', text: asText(part?.body) ?? summary ?? 'System message' };
    case 'unsupported':
      return unsupported(content);
    case 'template':
      return template(asObject(content.template) ?? content, summary);
    default:
      return { type: 'placeholder', text: `Unsupported message (${kind})`, detail: summary };
  }
}

function location(part: Obj | null): ContentView {
  const lat = asNumber(part?.latitude);
  const lon = asNumber(part?.longitude);
  const valid = lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  return {
    type: 'location',
    name: asText(part?.name),
    address: asText(part?.address),
    coordinates: valid ? `${lat}, ${lon}` : null,
    mapUrl: valid ? `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}` : null,
  };
}

function contacts(list: unknown): ContentView {
  const out: SharedContact[] = [];
  for (const item of asArray(list)) {
    const c = asObject(item);
    if (!c) continue;
    const n = asObject(c.name);
    const parts = [n?.first_name, n?.middle_name, n?.last_name].map(asText).filter((p): p is string => p !== null);
    const name =
      asText(n?.formatted_name) ??
      (parts.length > 0 ? parts.join(' ') : null) ??
      asText(asObject(c.org)?.company) ??
      'Unnamed contact';
    const phones: SharedContact['phones'] = [];
    for (const p of asArray(c.phones)) {
      const phone = asObject(p);
      const number = asText(phone?.phone) ?? (asText(phone?.wa_id) !== null ? `+${asText(phone?.wa_id)}` : null);
      if (number !== null) phones.push({ phone: number, type: phoneType(asText(phone?.type)) });
    }
    out.push({ name, phones });
  }
  return out.length > 0 ? { type: 'contacts', contacts: out } : { type: 'placeholder', text: 'Shared contact (no details)', detail: null };
}

function phoneType(type: string | null): string | null {
  if (type === null) return null;
  const t = type.trim().toLowerCase();
  if (t === 'cell') return 'Mobile';
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** "comment_text" → "Comment text". */
export function humanizeKey(key: string): string {
  const words = key.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : key;
}

function interactive(part: Obj | null, summary: string | null): ContentView | null {
  if (!part) return null;
  const sub = asText(part.type);
  // What we sent: `{type: "button" | "list", header?, body: {text}, footer?, action}`.
  if (sub === 'button' || sub === 'list') return outgoingInteractive(part, sub, summary);
  const button = asObject(part.button_reply);
  const list = asObject(part.list_reply);
  if ((sub === 'button_reply' || (!sub && button)) && asText(button?.title) !== null) {
    return { type: 'choice', label: 'Button reply', title: asText(button?.title) as string, description: null };
  }
  if ((sub === 'list_reply' || (!sub && list)) && asText(list?.title) !== null) {
    return { type: 'choice', label: 'List selection', title: asText(list?.title) as string, description: asText(list?.description) };
  }
  const nfm = asObject(part.nfm_reply);
  if (sub === 'nfm_reply' || (!sub && nfm)) return flow(nfm);
  return null;
}

function outgoingInteractive(part: Obj, sub: 'button' | 'list', summary: string | null): ContentView | null {
  const action = asObject(part.action);
  const header = asObject(part.header);
  const texts = {
    header: asText(header?.type) === 'text' || !asText(header?.type) ? asText(header?.text) : null,
    body: asText(asObject(part.body)?.text) ?? summary,
    footer: asText(asObject(part.footer)?.text),
  };
  if (sub === 'button') {
    const buttons: string[] = [];
    for (const raw of asArray(action?.buttons)) {
      const b = asObject(raw);
      const title = asText(asObject(b?.reply)?.title) ?? asText(b?.title);
      if (title !== null) buttons.push(title);
    }
    if (buttons.length === 0 && texts.body === null) return null;
    return { type: 'buttons', ...texts, buttons };
  }
  const sections: ListSectionView[] = [];
  for (const raw of asArray(action?.sections)) {
    const section = asObject(raw);
    if (!section) continue;
    const rows: ListRowView[] = [];
    for (const r of asArray(section.rows)) {
      const row = asObject(r);
      const title = asText(row?.title);
      if (title !== null) rows.push({ title, description: asText(row?.description) });
    }
    sections.push({ title: asText(section.title), rows });
  }
  const button = asText(action?.button);
  if (sections.length === 0 && button === null && texts.body === null) return null;
  return { type: 'list', ...texts, button, sections };
}

function flow(nfm: Obj | null): ContentView {
  let response: unknown = nfm?.response_json;
  if (typeof response === 'string') {
    try {
      response = JSON.parse(response);
    } catch {
      return { type: 'flow', fields: [], note: asText(nfm?.response_json) };
    }
  }
  const fields: [string, string][] = [];
  for (const [key, value] of Object.entries(asObject(response) ?? {})) {
    if (key === 'flow_token') continue; // an internal id, meaningless to people
    fields.push([humanizeKey(key), formatValue(value)]);
  }
  const body = asText(nfm?.body);
  return { type: 'flow', fields, note: fields.length === 0 && body !== 'Sent' ? body : null };
}

function formatMoney(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

function order(part: Obj | null): ContentView {
  const totals = new Map<string, number>();
  const lines: OrderLine[] = [];
  let itemCount = 0;
  for (const raw of asArray(part?.product_items)) {
    const item = asObject(raw);
    if (!item) continue;
    const quantity = asNumber(item.quantity);
    const qty = quantity !== null && quantity > 0 ? quantity : 1;
    const price = asNumber(item.item_price);
    const currency = asText(item.currency)?.trim().toUpperCase() ?? null;
    itemCount += qty;
    if (price !== null && currency !== null) totals.set(currency, (totals.get(currency) ?? 0) + price * qty);
    lines.push({
      product: asText(item.product_retailer_id) ?? 'Item',
      quantity: qty,
      price: price !== null && currency !== null ? formatMoney(price, currency) : null,
    });
  }
  const total =
    totals.size > 0
      ? Array.from(totals, ([currency, sum]) => formatMoney(Math.round(sum * 100) / 100, currency)).join(' + ')
      : null;
  return { type: 'order', itemCount, catalogId: asText(part?.catalog_id), total, lines, note: asText(part?.text) };
}

function unsupported(content: Obj): ContentView {
  const error = asObject(asArray(content.errors)[0]);
  const title = asText(error?.title) ?? asText(error?.message);
  const details = asText(asObject(error?.error_data)?.details);
  const reason = [title, details].filter((s, i, all): s is string => s !== null && all.indexOf(s) === i).join(' — ');
  return { type: 'unsupported', subtype: asText(asObject(content.unsupported)?.type), reason: reason || null };
}

function templateParam(raw: unknown): string | null {
  const p = asObject(raw);
  if (!p) return asText(raw);
  const type = asText(p.type) ?? 'text';
  let value: string | null;
  if (type === 'text') value = asText(p.text);
  else if (type === 'currency') value = asText(asObject(p.currency)?.fallback_value);
  else if (type === 'date_time') value = asText(asObject(p.date_time)?.fallback_value);
  else value = asText(p[type]) ?? `[${type}]`;
  if (value === null) return null;
  const name = asText(p.parameter_name);
  return name ? `${name}: ${value}` : value;
}

function template(t: Obj, summary: string | null): ContentView {
  const name = asText(t.name);
  if (name === null) return { type: 'placeholder', text: 'Unsupported message (template)', detail: summary };
  const params: string[] = [];
  for (const raw of asArray(t.components)) {
    const component = asObject(raw);
    if (asText(component?.type)?.toLowerCase() !== 'body') continue;
    for (const p of asArray(component?.parameters)) {
      const v = templateParam(p);
      if (v !== null) params.push(v);
    }
  }
  const language = asObject(t.language);
  return { type: 'template', name, language: asText(language?.code) ?? asText(t.language), params };
}

/** One line for a reply quote: "Photo · Look at this", "Voice message", "Location · Facebook HQ". */
export function summarize(view: ContentView): string {
  const join = (...parts: (string | null)[]) => parts.filter((p) => p !== null && p !== '').join(' · ');
  switch (view.type) {
    case 'text':
    case 'placeholder':
    case 'system':
      return view.text;
    case 'media':
      return join(view.label, view.caption);
    case 'audio':
      return view.label;
    case 'document':
      return join('Document', view.filename ?? view.caption);
    case 'location':
      return join('Location', view.name ?? view.address);
    case 'contacts':
      return view.contacts.length === 1 ? join('Contact', view.contacts[0].name) : `${view.contacts.length} contacts`;
    case 'choice':
      return view.title;
    case 'buttons':
      return view.body ?? view.header ?? 'Message with buttons';
    case 'list':
      return view.body ?? view.header ?? 'List message';
    case 'flow':
      return 'Form submitted';
    case 'order':
      return join('Order', itemsLabel(view.itemCount));
    case 'unsupported':
      return 'Unsupported message';
    case 'template':
      return `Template: ${view.name}`;
  }
}

export function itemsLabel(count: number): string {
  return `${count} ${count === 1 ? 'item' : 'items'}`;
}

export interface Referral {
  /** "From an ad", "From a post", ... */
  label: string;
  headline: string | null;
  body: string | null;
  /** A safe http(s) link to the ad or post, if one was given. */
  url: string | null;
  /** The source as given when it is not a usable link. */
  source: string | null;
}

export interface MessageContext {
  /** "Forwarded" / "Forwarded many times", else null. */
  forwarded: string | null;
  /** The wamid this message replies to, else null. */
  replyTo: string | null;
  referral: Referral | null;
}

function safeUrl(value: string | null): string | null {
  if (value === null) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Reply, forward and click-to-WhatsApp ad information of a message. */
export function messageContext(message: Message): MessageContext {
  const content = contentOf(message);
  const context = asObject(content?.context);
  const forwarded =
    context?.frequently_forwarded === true ? 'Forwarded many times' : context?.forwarded === true ? 'Forwarded' : null;
  const r = asObject(content?.referral);
  let referral: Referral | null = null;
  if (r) {
    const sourceType = asText(r.source_type)?.toLowerCase() ?? '';
    const sourceUrl = asText(r.source_url);
    const url = safeUrl(sourceUrl);
    referral = {
      label: sourceType === 'ad' ? 'From an ad' : sourceType === 'post' ? 'From a post' : 'From an ad or post',
      headline: asText(r.headline),
      body: asText(r.body),
      url,
      source: url === null ? sourceUrl : null,
    };
  }
  return { forwarded, replyTo: asText(context?.id), referral };
}
