// App-wide keyboard shortcuts: one table used both by the key handler and by the
// shortcut sheet (`?`).

import { FILTERS, type FilterId } from './listView';

export type ShortcutAction =
  | 'next'
  | 'prev'
  | 'open'
  | 'reply'
  | 'note'
  | 'resolve'
  | 'claim'
  | 'transfer'
  | 'search'
  | 'top'
  | 'help'
  | 'escape'
  | `filter:${FilterId}`;

export type ShortcutGroup = 'Conversations' | 'Actions' | 'Filters' | 'General';

export interface Shortcut {
  /** Alternatives, each one key (`j`, `Enter`, `?`) or a sequence of two (`g i`). */
  keys: readonly string[];
  action: ShortcutAction;
  description: string;
  group: ShortcutGroup;
  /** Also works while typing in a text field (only Escape does). */
  inTextFields?: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ['j'], action: 'next', description: 'Next conversation', group: 'Conversations' },
  { keys: ['k'], action: 'prev', description: 'Previous conversation', group: 'Conversations' },
  { keys: ['Enter', 'o'], action: 'open', description: 'Open the conversation', group: 'Conversations' },
  { keys: ['g i'], action: 'top', description: 'Go to the top of the list', group: 'Conversations' },
  { keys: ['/'], action: 'search', description: 'Search conversations', group: 'Conversations' },
  { keys: ['r'], action: 'reply', description: 'Write a reply', group: 'Actions' },
  { keys: ['n'], action: 'note', description: 'Write an internal note', group: 'Actions' },
  { keys: ['e'], action: 'resolve', description: 'Resolve (asks for a note first)', group: 'Actions' },
  { keys: ['c'], action: 'claim', description: 'Claim a waiting conversation', group: 'Actions' },
  { keys: ['t'], action: 'transfer', description: 'Transfer to a colleague or team', group: 'Actions' },
  ...FILTERS.map(
    (f, i): Shortcut => ({
      keys: [String(i + 1)],
      action: `filter:${f.id}`,
      description: `Show: ${f.description}`,
      group: 'Filters',
    }),
  ),
  { keys: ['?'], action: 'help', description: 'Show keyboard shortcuts', group: 'General' },
  {
    keys: ['Escape'],
    action: 'escape',
    description: 'Leave the text field; close a dialog',
    group: 'General',
    inTextFields: true,
  },
];

export const SHORTCUT_GROUPS: readonly ShortcutGroup[] = ['Conversations', 'Actions', 'Filters', 'General'];

/** The second key of a sequence (`g` then `i`) must come this soon after the first. */
export const SEQUENCE_TIMEOUT_MS = 1500;

/** The filter an action switches to, if it is a filter action. */
export function filterOf(action: ShortcutAction): FilterId | null {
  return action.startsWith('filter:') ? (action.slice('filter:'.length) as FilterId) : null;
}

/** Keys as a person reads them: `g i` → ['g', 'i']. */
export function keyParts(keys: string): string[] {
  return keys.split(' ').filter(Boolean);
}

/** An input, textarea, select or contenteditable: keys there are typing, not shortcuts. */
export function isTextField(target: EventTarget | null): boolean {
  if (typeof HTMLElement === 'undefined' || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const editable = target.closest('[contenteditable]');
  if (editable && editable.getAttribute('contenteditable') !== 'false') return true;
  return ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** A control that Enter itself activates (a button, a link, a tab...). */
export function isActivatable(target: EventTarget | null): boolean {
  if (typeof HTMLElement === 'undefined' || !(target instanceof HTMLElement)) return false;
  if (['BUTTON', 'A', 'SUMMARY', 'SELECT', 'INPUT', 'TEXTAREA'].includes(target.tagName)) return true;
  const role = target.getAttribute('role');
  return role !== null && ['button', 'link', 'tab', 'menuitem', 'checkbox', 'radio', 'switch', 'option', 'listbox'].includes(role);
}

/** Matches key presses to the table, including two-key sequences. */
export class ShortcutMatcher {
  private pending: { key: string; at: number } | null = null;
  private readonly singles = new Map<string, Shortcut>();
  private readonly sequences = new Map<string, Shortcut>();
  private readonly prefixes = new Set<string>();
  private readonly timeoutMs: number;

  constructor(table: readonly Shortcut[] = SHORTCUTS, timeoutMs: number = SEQUENCE_TIMEOUT_MS) {
    this.timeoutMs = timeoutMs;
    for (const s of table) {
      for (const keys of s.keys) {
        const parts = keyParts(keys);
        if (parts.length === 1) this.singles.set(parts[0], s);
        else if (parts.length === 2) {
          this.sequences.set(parts.join(' '), s);
          this.prefixes.add(parts[0]);
        }
      }
    }
  }

  /** True while the first key of a sequence waits for the second. */
  get waiting(): boolean {
    return this.pending !== null;
  }

  reset(): void {
    this.pending = null;
  }

  /** The shortcut this key completes; 'pending' when it starts a sequence; null when none. */
  feed(key: string, now: number): Shortcut | 'pending' | null {
    const pending = this.pending;
    this.pending = null;
    if (pending && now - pending.at <= this.timeoutMs) {
      const seq = this.sequences.get(`${pending.key} ${key}`);
      if (seq) return seq;
    }
    if (this.prefixes.has(key)) {
      this.pending = { key, at: now };
      return 'pending';
    }
    return this.singles.get(key) ?? null;
  }
}

/** What of a KeyboardEvent the matcher looks at. */
export type KeyInput = Pick<
  KeyboardEvent,
  'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'isComposing' | 'defaultPrevented' | 'target'
>;

/**
 * The action a key press asks for, 'pending' while a sequence is under way, or null.
 * Ignored: keys with Ctrl/Cmd/Alt, IME composition, keys something already handled,
 * typing in text fields (except Escape), and Enter on a control it activates itself.
 */
export function shortcutFor(event: KeyInput, matcher: ShortcutMatcher, now: number): ShortcutAction | 'pending' | null {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || event.defaultPrevented) {
    matcher.reset();
    return null;
  }
  if (event.key === 'Shift') return matcher.waiting ? 'pending' : null;
  const typing = isTextField(event.target);
  if (typing && event.key !== 'Escape') {
    matcher.reset();
    return null;
  }
  const hit = matcher.feed(event.key, now);
  if (hit === null || hit === 'pending') return hit;
  if (typing && !hit.inTextFields) return null;
  if (event.key === 'Enter' && isActivatable(event.target)) return null;
  return hit.action;
}
