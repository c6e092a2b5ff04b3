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

// The main window's views: the inbox (`#/inbox`, or no hash) and, for managers and
// admins, the board (`#/board`) and the metrics (`#/metrics`).

export type View = 'inbox' | 'board' | 'metrics';

export const VIEW_HASHES: Record<View, string> = {
  inbox: '#/inbox',
  board: '#/board',
  metrics: '#/metrics',
};

const VIEW_ROUTE = /^#\/(inbox|board|metrics)\/?$/;

/** The view a location hash names; the inbox for anything else. */
export function viewFromHash(hash: string): View {
  const match = VIEW_ROUTE.exec(hash);
  return match ? (match[1] as View) : 'inbox';
}

/** Managers and admins see the board and the metrics; agents and viewers only the inbox. */
export function canManage(role: string | null | undefined): boolean {
  return role === 'manager' || role === 'admin';
}
