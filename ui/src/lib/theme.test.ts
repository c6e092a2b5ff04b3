import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  THEME_KEY,
  applyTheme,
  loadThemeChoice,
  resolveTheme,
  saveThemeChoice,
  systemPrefersDark,
  watchSystemTheme,
} from './theme';

function fakeMedia(dark: boolean) {
  const listeners = new Set<(e: { matches: boolean }) => void>();
  const mql = {
    matches: dark,
    addEventListener: (_: string, l: (e: { matches: boolean }) => void) => listeners.add(l),
    removeEventListener: (_: string, l: (e: { matches: boolean }) => void) => listeners.delete(l),
  };
  return {
    win: { matchMedia: vi.fn(() => mql) } as unknown as Pick<Window, 'matchMedia'>,
    emit: (matches: boolean) => listeners.forEach((l) => l({ matches })),
    listeners,
  };
}

describe('theme', () => {
  afterEach(() => {
    localStorage.clear();
    delete document.documentElement.dataset.theme;
    delete document.documentElement.dataset.themeChoice;
  });

  it('the choice defaults to system, round-trips, and ignores garbage', () => {
    expect(loadThemeChoice()).toBe('system');
    saveThemeChoice('dark');
    expect(localStorage.getItem(THEME_KEY)).toBe('dark');
    expect(loadThemeChoice()).toBe('dark');
    localStorage.setItem(THEME_KEY, 'purple');
    expect(loadThemeChoice()).toBe('system');
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(loadThemeChoice(broken)).toBe('system');
    expect(() => saveThemeChoice('light', broken)).not.toThrow();
  });

  it('system follows the preference; light and dark do not', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });

  it('applies data-theme on <html>', () => {
    expect(applyTheme('dark')).toBe('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(document.documentElement.dataset.themeChoice).toBe('dark');
    expect(applyTheme('system', document.documentElement, true)).toBe('dark');
    expect(applyTheme('system', document.documentElement, false)).toBe('light');
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(document.documentElement.dataset.themeChoice).toBe('system');
  });

  it('reads and watches prefers-color-scheme where the browser has matchMedia', () => {
    // jsdom has none: light, and nothing to watch.
    expect(systemPrefersDark()).toBe(false);
    expect(() => watchSystemTheme(() => {})()).not.toThrow();

    const media = fakeMedia(true);
    expect(systemPrefersDark(media.win)).toBe(true);
    const seen: boolean[] = [];
    const stop = watchSystemTheme((dark) => seen.push(dark), media.win);
    media.emit(false);
    media.emit(true);
    expect(seen).toEqual([false, true]);
    stop();
    expect(media.listeners.size).toBe(0);
  });
});
