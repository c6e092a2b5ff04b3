import { describe, expect, it } from 'vitest';
import { cachedMediaUrl, clearMediaCache, loadMediaUrl } from './mediaCache';
import { mediaOf } from './content';
import { BackendError } from './errors';
import { FakeBackend } from '../test/fakeBackend';
import { message } from '../test/fixtures';

describe('mediaCache', () => {
  it('loads a URL once per backend and message id', async () => {
    const backend = new FakeBackend();
    backend.mediaUrls.set(1, 'data:a');
    expect(cachedMediaUrl(backend, 1)).toBeUndefined();
    await expect(Promise.all([loadMediaUrl(backend, 1), loadMediaUrl(backend, 1)])).resolves.toEqual(['data:a', 'data:a']);
    expect(cachedMediaUrl(backend, 1)).toBe('data:a');
    expect(backend.media).toHaveBeenCalledTimes(1);

    const other = new FakeBackend();
    other.mediaUrls.set(1, 'data:b');
    await expect(loadMediaUrl(other, 1)).resolves.toBe('data:b');
  });

  it('a failed load is not cached, and clearing forgets everything', async () => {
    const backend = new FakeBackend();
    backend.mediaUrls.set(1, 'data:a');
    backend.failures.set('media', new BackendError('network', 'down'));
    await expect(loadMediaUrl(backend, 1)).rejects.toMatchObject({ code: 'network' });
    await expect(loadMediaUrl(backend, 1)).resolves.toBe('data:a');
    clearMediaCache(backend);
    expect(cachedMediaUrl(backend, 1)).toBeUndefined();
    await loadMediaUrl(backend, 1);
    expect(backend.media).toHaveBeenCalledTimes(3);
  });
});

describe('mediaOf', () => {
  it('reads the media info and ignores junk', () => {
    const info = { status: 'ready', mime_type: 'image/png', size: 10, error: null } as const;
    expect(mediaOf(message({ media: info }))).toEqual(info);
    expect(mediaOf(message())).toBeNull();
    expect(mediaOf(message({ media: null }))).toBeNull();
    const junk = { status: 'done', mime_type: 3, size: 'x', error: {} } as unknown as typeof info;
    expect(mediaOf(message({ media: junk }))).toBeNull();
    const odd = { status: 'failed', mime_type: 3, size: -5, error: 'boom' } as unknown as typeof info;
    expect(mediaOf(message({ media: odd }))).toEqual({ status: 'failed', mime_type: '3', size: null, error: 'boom' });
  });
});
