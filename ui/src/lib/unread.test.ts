import { afterEach, describe, expect, it } from 'vitest';
import {
  SeenStore,
  isUnread,
  mergeSeen,
  parseSeen,
  pruneSeen,
  seenKey,
  withSeen,
} from './unread.svelte';

const T = 1_700_000_000_000;

describe('unread: pure helpers', () => {
  it('seenKey is namespaced per server and agent; trailing slashes and case do not matter', () => {
    expect(seenKey('https://Support.example.com/', 7)).toBe('handoff-inbox.seen:https://support.example.com:7');
    expect(seenKey('https://support.example.com', 7)).toBe(seenKey('https://support.example.com//', 7));
    expect(seenKey('https://a.example', 7)).not.toBe(seenKey('https://b.example', 7));
    expect(seenKey('https://a.example', 7)).not.toBe(seenKey('https://a.example', 8));
  });

  it('never opened: unread when the customer ever wrote', () => {
    expect(isUnread({ id: 1, last_inbound_at: T }, {})).toBe(true);
    expect(isUnread({ id: 1, last_inbound_at: null }, {})).toBe(false);
  });

  it('opened: unread only when the customer wrote after', () => {
    const seen = { 1: T };
    expect(isUnread({ id: 1, last_inbound_at: T }, seen)).toBe(false);
    expect(isUnread({ id: 1, last_inbound_at: T - 1 }, seen)).toBe(false);
    expect(isUnread({ id: 1, last_inbound_at: T + 1 }, seen)).toBe(true);
    expect(isUnread({ id: 2, last_inbound_at: T - 1000 }, seen)).toBe(true);
  });

  it('withSeen only moves forward; a conversation without customer messages changes nothing', () => {
    expect(withSeen({}, 1, T)).toEqual({ 1: T });
    expect(withSeen({ 1: T }, 1, T + 5)).toEqual({ 1: T + 5 });
    expect(withSeen({ 1: T }, 1, T)).toBeNull();
    expect(withSeen({ 1: T }, 1, T - 5)).toBeNull();
    expect(withSeen({ 1: T }, 2, null)).toBeNull();
    expect(withSeen({ 1: T }, 2, undefined)).toBeNull();
  });

  it('parseSeen keeps id → time entries only', () => {
    expect(parseSeen(null)).toEqual({});
    expect(parseSeen('nope')).toEqual({});
    expect(parseSeen('[1,2]')).toEqual({});
    expect(parseSeen(JSON.stringify({ 1: T, x: T, 2: 'soon', 3: null, 4: T + 1 }))).toEqual({ 1: T, 4: T + 1 });
  });

  it('mergeSeen keeps the later time of each', () => {
    expect(mergeSeen({ 1: T, 2: T }, { 2: T + 1, 3: T - 1 })).toEqual({ 1: T, 2: T + 1, 3: T - 1 });
    expect(mergeSeen({ 1: T + 9 }, { 1: T })).toEqual({ 1: T + 9 });
  });

  it('pruneSeen keeps the most recent entries', () => {
    const seen = { 1: T + 1, 2: T + 3, 3: T + 2, 4: T };
    expect(pruneSeen(seen, 2)).toEqual({ 2: T + 3, 3: T + 2 });
    expect(pruneSeen(seen, 10)).toBe(seen);
  });
});

describe('SeenStore', () => {
  afterEach(() => localStorage.clear());
  const key = seenKey('http://127.0.0.1:8080', 7);

  it('marks persist under the agent’s key and come back on the next login', () => {
    const store = new SeenStore();
    store.load(key);
    expect(store.isUnread({ id: 1, last_inbound_at: T })).toBe(true);
    store.mark(1, T);
    expect(store.isUnread({ id: 1, last_inbound_at: T })).toBe(false);
    expect(JSON.parse(localStorage.getItem(key)!)).toEqual({ 1: T });

    store.unload();
    expect(store.isUnread({ id: 1, last_inbound_at: T })).toBe(true);
    const again = new SeenStore();
    again.load(key);
    expect(again.isUnread({ id: 1, last_inbound_at: T })).toBe(false);
    expect(again.isUnread({ id: 1, last_inbound_at: T + 1 })).toBe(true);
    again.unload();
  });

  it('another agent (or server) has marks of their own', () => {
    const store = new SeenStore();
    store.load(key);
    store.mark(1, T);
    store.load(seenKey('http://127.0.0.1:8080', 8));
    expect(store.isUnread({ id: 1, last_inbound_at: T })).toBe(true);
    store.unload();
  });

  it('does nothing before load (no key)', () => {
    const store = new SeenStore();
    store.mark(1, T);
    expect(localStorage.length).toBe(0);
    expect(store.isUnread({ id: 1, last_inbound_at: T })).toBe(true);
  });

  it('keeps marks another tab saved meanwhile, and follows its storage events', () => {
    const store = new SeenStore();
    store.load(key);
    // Another tab marked conversation 2.
    localStorage.setItem(key, JSON.stringify({ 2: T }));
    store.mark(1, T);
    expect(JSON.parse(localStorage.getItem(key)!)).toEqual({ 1: T, 2: T });

    window.dispatchEvent(new StorageEvent('storage', { key, newValue: JSON.stringify({ 1: T, 2: T, 3: T }) }));
    expect(store.isUnread({ id: 3, last_inbound_at: T })).toBe(false);
    // Other keys are not ours.
    window.dispatchEvent(new StorageEvent('storage', { key: 'other', newValue: '{}' }));
    expect(store.isUnread({ id: 3, last_inbound_at: T })).toBe(false);
    store.unload();
    window.dispatchEvent(new StorageEvent('storage', { key, newValue: JSON.stringify({ 4: T }) }));
    expect(store.isUnread({ id: 4, last_inbound_at: T })).toBe(true);
  });

  it('a storage that refuses writes still marks for the session', () => {
    const store = new SeenStore({
      getItem: () => null,
      setItem: () => {
        throw new Error('quota');
      },
    });
    store.load(key);
    store.mark(1, T);
    expect(store.isUnread({ id: 1, last_inbound_at: T })).toBe(false);
    store.unload();
  });
});
