// The desktop app opens a second, small window on `index.html#/quick-reply/<id>`
// (Reply on a notification): it shows `QuickReply` instead of the whole inbox.

const QUICK_REPLY = /^#\/quick-reply\/(\d+)\/?$/;

/** The conversation a `#/quick-reply/<id>` location hash names, else null. */
export function quickReplyId(hash: string): number | null {
  const match = QUICK_REPLY.exec(hash);
  if (!match) return null;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
