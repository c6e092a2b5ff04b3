// Light, dark, or following the system: kept in localStorage, applied as
// `data-theme="light|dark"` on <html> (app.css picks its colours by it).

export type ThemeChoice = 'light' | 'dark' | 'system';
export type Theme = 'light' | 'dark';

export const THEME_KEY = 'handoff-inbox.theme';
export const THEME_CHOICES: readonly { value: ThemeChoice; label: string }[] = [
  { value: 'light', label: 'Light theme' },
  { value: 'dark', label: 'Dark theme' },
  { value: 'system', label: 'Theme follows the system' },
];

const DARK_QUERY = '(prefers-color-scheme: dark)';

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function defaultStorage(): Store | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function isThemeChoice(value: unknown): value is ThemeChoice {
  return value === 'light' || value === 'dark' || value === 'system';
}

/** The stored choice; 'system' when none (or it is unreadable). */
export function loadThemeChoice(storage: Store | null = defaultStorage()): ThemeChoice {
  try {
    const value = storage?.getItem(THEME_KEY);
    return isThemeChoice(value) ? value : 'system';
  } catch {
    return 'system';
  }
}

export function saveThemeChoice(choice: ThemeChoice, storage: Store | null = defaultStorage()): void {
  try {
    storage?.setItem(THEME_KEY, choice);
  } catch {
    // Not remembered: the default next time.
  }
}

/** The system's preference, if the browser says (jsdom and old webviews do not: light). */
export function systemPrefersDark(win: Pick<Window, 'matchMedia'> | undefined = globalThis.window): boolean {
  return typeof win?.matchMedia === 'function' && win.matchMedia(DARK_QUERY).matches;
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): Theme {
  if (choice === 'system') return prefersDark ? 'dark' : 'light';
  return choice;
}

/** Sets `data-theme` (and `data-theme-choice`) on `root`; returns the theme applied. */
export function applyTheme(
  choice: ThemeChoice,
  root: HTMLElement = document.documentElement,
  prefersDark: boolean = systemPrefersDark(),
): Theme {
  const theme = resolveTheme(choice, prefersDark);
  root.dataset.theme = theme;
  root.dataset.themeChoice = choice;
  root.style.colorScheme = theme;
  return theme;
}

/** Calls `onChange` when the system switches between light and dark; returns the unsubscribe. */
export function watchSystemTheme(
  onChange: (prefersDark: boolean) => void,
  win: Pick<Window, 'matchMedia'> | undefined = globalThis.window,
): () => void {
  if (typeof win?.matchMedia !== 'function') return () => {};
  const mql = win.matchMedia(DARK_QUERY);
  const listener = (e: MediaQueryListEvent) => onChange(e.matches);
  mql.addEventListener('change', listener);
  return () => mql.removeEventListener('change', listener);
}
