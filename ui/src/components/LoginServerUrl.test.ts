import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import Login from './Login.svelte';
import { DEFAULT_SERVER_URL, Inbox, defaultServerUrl } from '../lib/inbox.svelte';
import { FakeBackend } from '../test/fakeBackend';

function fakeWindow(href: string, tauri = false): Window {
  const win: Record<string, unknown> = { location: new URL(href) };
  if (tauri) win.__TAURI_INTERNALS__ = {};
  return win as unknown as Window;
}

describe('the default server URL', () => {
  it('is the page origin when the built inbox is served over http(s)', () => {
    expect(defaultServerUrl(fakeWindow('https://inbox.example.com/some/path?x=1'), false)).toBe(
      'https://inbox.example.com',
    );
    expect(defaultServerUrl(fakeWindow('http://127.0.0.1:41234/'), false)).toBe('http://127.0.0.1:41234');
  });

  it('stays the fixed default in the desktop app, from files and on the Vite dev server', () => {
    expect(defaultServerUrl(fakeWindow('http://tauri.localhost/', true), false)).toBe(DEFAULT_SERVER_URL);
    expect(defaultServerUrl(fakeWindow('tauri://localhost/'), false)).toBe(DEFAULT_SERVER_URL);
    expect(defaultServerUrl(fakeWindow('file:///tmp/index.html'), false)).toBe(DEFAULT_SERVER_URL);
    expect(defaultServerUrl(fakeWindow('http://localhost:5173/'), true)).toBe(DEFAULT_SERVER_URL);
  });
});

describe('Login served by the Handoff server', () => {
  beforeEach(() => {
    localStorage.clear();
    vi.stubEnv('DEV', false);
  });
  afterEach(() => vi.unstubAllEnvs());

  it('fills in the page origin as the server URL', () => {
    render(Login, { inbox: new Inbox(new FakeBackend({ session: null })) });
    expect(screen.getByLabelText('Server URL')).toHaveValue(window.location.origin);
  });

  it('still prefers the server of the last login', () => {
    localStorage.setItem('handoff-inbox.server-url', 'https://other.example.com');
    render(Login, { inbox: new Inbox(new FakeBackend({ session: null })) });
    expect(screen.getByLabelText('Server URL')).toHaveValue('https://other.example.com');
  });
});
