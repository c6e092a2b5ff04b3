import { describe, expect, it } from 'vitest';
import {
  SHORTCUTS,
  SHORTCUT_GROUPS,
  ShortcutMatcher,
  filterOf,
  isActivatable,
  isTextField,
  keyParts,
  shortcutFor,
  type KeyInput,
  type ShortcutAction,
} from './shortcuts';
import { FILTERS } from './listView';

function key(k: string, extra: Partial<KeyInput> = {}): KeyInput {
  return {
    key: k,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    isComposing: false,
    defaultPrevented: false,
    target: document.body,
    ...extra,
  };
}

describe('the shortcut table', () => {
  it('has every action the app offers, once, each with a description and a known group', () => {
    const actions = SHORTCUTS.map((s) => s.action);
    const expected: ShortcutAction[] = [
      'next',
      'prev',
      'open',
      'top',
      'search',
      'reply',
      'note',
      'resolve',
      'claim',
      'transfer',
      ...FILTERS.map((f) => `filter:${f.id}` as const),
      'help',
      'escape',
    ];
    expect([...actions].sort()).toEqual([...expected].sort());
    for (const s of SHORTCUTS) {
      expect(s.description).not.toBe('');
      expect(SHORTCUT_GROUPS).toContain(s.group);
    }
  });

  it('no key is bound twice', () => {
    const keys = SHORTCUTS.flatMap((s) => s.keys);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('the filters are 1..6 in tab order', () => {
    FILTERS.forEach((f, i) => {
      const s = SHORTCUTS.find((x) => x.action === `filter:${f.id}`)!;
      expect(s.keys).toEqual([String(i + 1)]);
      expect(filterOf(s.action)).toBe(f.id);
    });
    expect(filterOf('next')).toBeNull();
  });

  it('keyParts splits sequences', () => {
    expect(keyParts('g i')).toEqual(['g', 'i']);
    expect(keyParts('Enter')).toEqual(['Enter']);
  });
});

describe('ShortcutMatcher', () => {
  it('single keys', () => {
    const m = new ShortcutMatcher();
    expect(m.feed('j', 0)).toMatchObject({ action: 'next' });
    expect(m.feed('Enter', 0)).toMatchObject({ action: 'open' });
    expect(m.feed('o', 0)).toMatchObject({ action: 'open' });
    expect(m.feed('?', 0)).toMatchObject({ action: 'help' });
    expect(m.feed('3', 0)).toMatchObject({ action: 'filter:queue' });
    expect(m.feed('x', 0)).toBeNull();
    expect(m.feed('J', 0)).toBeNull();
  });

  it('g then i, within the timeout', () => {
    const m = new ShortcutMatcher(SHORTCUTS, 1000);
    expect(m.feed('g', 0)).toBe('pending');
    expect(m.waiting).toBe(true);
    expect(m.feed('i', 999)).toMatchObject({ action: 'top' });
    expect(m.waiting).toBe(false);
    // too slow: "i" alone means nothing
    expect(m.feed('g', 2000)).toBe('pending');
    expect(m.feed('i', 3001)).toBeNull();
  });

  it('g then another shortcut key: that key counts on its own', () => {
    const m = new ShortcutMatcher();
    expect(m.feed('g', 0)).toBe('pending');
    expect(m.feed('j', 10)).toMatchObject({ action: 'next' });
    expect(m.feed('i', 20)).toBeNull();
  });
});

describe('shortcutFor', () => {
  it('ignores modified keys, IME composition and keys already handled', () => {
    const m = new ShortcutMatcher();
    expect(shortcutFor(key('j'), m, 0)).toBe('next');
    expect(shortcutFor(key('j', { ctrlKey: true }), m, 0)).toBeNull();
    expect(shortcutFor(key('j', { metaKey: true }), m, 0)).toBeNull();
    expect(shortcutFor(key('j', { altKey: true }), m, 0)).toBeNull();
    expect(shortcutFor(key('j', { isComposing: true }), m, 0)).toBeNull();
    expect(shortcutFor(key('j', { defaultPrevented: true }), m, 0)).toBeNull();
  });

  it('typing in a text field is typing; only Escape gets through', () => {
    const m = new ShortcutMatcher();
    for (const html of ['<input>', '<textarea></textarea>', '<select></select>', '<div contenteditable="true"><b>x</b></div>']) {
      const host = document.createElement('div');
      host.innerHTML = html;
      document.body.appendChild(host);
      const field = (host.querySelector('b') ?? host.firstElementChild) as HTMLElement;
      expect(isTextField(field)).toBe(true);
      expect(shortcutFor(key('j', { target: field }), m, 0)).toBeNull();
      expect(shortcutFor(key('/', { target: field }), m, 0)).toBeNull();
      expect(shortcutFor(key('Escape', { target: field }), m, 0)).toBe('escape');
      host.remove();
    }
    expect(isTextField(document.body)).toBe(false);
    expect(isTextField(null)).toBe(false);
  });

  it('a "g" typed in a field does not start a sequence', () => {
    const m = new ShortcutMatcher();
    const input = document.createElement('input');
    expect(shortcutFor(key('g', { target: input }), m, 0)).toBeNull();
    expect(shortcutFor(key('i'), m, 1)).toBeNull();
    expect(shortcutFor(key('g'), m, 2)).toBe('pending');
    // Shift (for "?") keeps a sequence going; the letter completes it.
    expect(shortcutFor(key('Shift'), m, 3)).toBe('pending');
    expect(shortcutFor(key('i'), m, 4)).toBe('top');
    expect(shortcutFor(key('Shift'), m, 5)).toBeNull();
  });

  it('Enter on a control is the control’s; elsewhere it opens', () => {
    const m = new ShortcutMatcher();
    const button = document.createElement('button');
    const tab = document.createElement('div');
    tab.setAttribute('role', 'tab');
    const plain = document.createElement('div');
    expect(isActivatable(button)).toBe(true);
    expect(isActivatable(tab)).toBe(true);
    expect(isActivatable(plain)).toBe(false);
    expect(shortcutFor(key('Enter', { target: button }), m, 0)).toBeNull();
    expect(shortcutFor(key('Enter', { target: tab }), m, 0)).toBeNull();
    expect(shortcutFor(key('Enter', { target: plain }), m, 0)).toBe('open');
    // "o" is no control's key.
    expect(shortcutFor(key('o', { target: button }), m, 0)).toBe('open');
  });
});
