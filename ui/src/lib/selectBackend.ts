import type { IBackend } from './backend';
import { HttpBackend } from './httpBackend';
import { TauriBackend } from './tauriBackend';

/** Inside the desktop app Tauri injects `__TAURI_INTERNALS__`; otherwise we are in a browser. */
export function isTauri(win: object = window): boolean {
  return '__TAURI_INTERNALS__' in win;
}

export function selectBackend(win: object = window): IBackend {
  return isTauri(win) ? new TauriBackend() : new HttpBackend();
}
