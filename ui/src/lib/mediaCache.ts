import type { IBackend } from './backend';

interface Entry {
  promise: Promise<string>;
  /** Set once the promise has resolved. */
  url?: string;
}

/**
 * Media URLs by message id, per backend: each file is loaded once, not on every
 * render or thread reload. Failed loads are dropped so that a later view retries.
 */
const caches = new WeakMap<IBackend, Map<number, Entry>>();

function cacheFor(backend: IBackend): Map<number, Entry> {
  let cache = caches.get(backend);
  if (!cache) {
    cache = new Map();
    caches.set(backend, cache);
  }
  return cache;
}

/** The URL if it has already loaded. */
export function cachedMediaUrl(backend: IBackend, messageId: number): string | undefined {
  return caches.get(backend)?.get(messageId)?.url;
}

/** The URL of a message's file, from the cache or the backend. Rejects with a BackendError. */
export function loadMediaUrl(backend: IBackend, messageId: number): Promise<string> {
  const cache = cacheFor(backend);
  const cached = cache.get(messageId);
  if (cached) return cached.promise;
  const entry: Entry = {
    promise: backend.media(messageId).then(
      (url) => {
        entry.url = url;
        return url;
      },
      (err: unknown) => {
        if (cache.get(messageId) === entry) cache.delete(messageId);
        throw err;
      },
    ),
  };
  cache.set(messageId, entry);
  return entry.promise;
}

/** Forget every URL loaded through `backend` (e.g. on logout, when object URLs are revoked). */
export function clearMediaCache(backend: IBackend): void {
  caches.delete(backend);
}
