import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_ACCEPT,
  ATTACHMENT_TYPES,
  attachmentKind,
  attachmentMime,
  bytesToBase64,
  checkAttachment,
  readBytes,
} from './attachments';
import { friendlyMessage } from './errors';

const MB = 1024 * 1024;

describe('attachments', () => {
  it('the accept list has every type WhatsApp sends and the Office extensions', () => {
    for (const mime of Object.keys(ATTACHMENT_TYPES)) expect(ATTACHMENT_ACCEPT.split(',')).toContain(mime);
    for (const ext of ['.doc', '.docx', '.xls', '.xlsx', '.ppt', '.pptx']) expect(ATTACHMENT_ACCEPT.split(',')).toContain(ext);
    expect(ATTACHMENT_ACCEPT).not.toContain('image/gif');
  });

  it('normalises the type, and guesses it from the name when the browser gives none', () => {
    expect(attachmentMime({ name: 'a.ogg', type: 'audio/ogg; codecs=opus' })).toBe('audio/ogg');
    expect(attachmentMime({ name: 'a.JPG', type: 'IMAGE/JPEG' })).toBe('image/jpeg');
    expect(attachmentMime({ name: 'a.jpg', type: 'image/jpg' })).toBe('image/jpeg');
    expect(attachmentMime({ name: 'voice.m4a', type: 'audio/x-m4a' })).toBe('audio/mp4');
    expect(attachmentMime({ name: 'Report.DOCX', type: '' })).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(attachmentMime({ name: 'note.amr', type: 'application/octet-stream' })).toBe('audio/amr');
    expect(attachmentMime({ name: 'noextension', type: '' })).toBe('');
  });

  it('knows how WhatsApp sends each type', () => {
    expect(attachmentKind('image/png')).toBe('image');
    expect(attachmentKind('video/3gpp')).toBe('video');
    expect(attachmentKind('audio/mpeg')).toBe('audio');
    expect(attachmentKind('application/vnd.ms-excel')).toBe('document');
    expect(attachmentKind('image/webp')).toBeNull();
  });

  it.each([
    ['an image of 5 MB', { name: 'a.png', type: 'image/png', size: 5 * MB }, 'image'],
    ['a video of 16 MB', { name: 'a.mp4', type: 'video/mp4', size: 16 * MB }, 'video'],
    ['an audio file of 16 MB', { name: 'a.mp3', type: 'audio/mpeg', size: 16 * MB }, 'audio'],
    ['a document of 100 MB', { name: 'a.pdf', type: 'application/pdf', size: 100 * MB }, 'document'],
  ])('accepts %s', (_case, file, kind) => {
    expect(checkAttachment(file)).toMatchObject({ ok: true, kind });
  });

  it.each([
    ['an image over 5 MB', { name: 'big.jpg', type: 'image/jpeg', size: 5 * MB + 1 }, 'images of at most 5 MB'],
    ['a video over 16 MB', { name: 'big.mp4', type: 'video/mp4', size: 17 * MB }, 'videos of at most 16 MB'],
    ['audio over 16 MB', { name: 'big.aac', type: 'audio/aac', size: 16 * MB + 1 }, 'audio files of at most 16 MB'],
    ['a document over 100 MB', { name: 'big.pdf', type: 'application/pdf', size: 101 * MB }, 'documents of at most 100 MB'],
  ])('refuses %s, saying the limit', (_case, file, words) => {
    const check = checkAttachment(file);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.code).toBe('payload_too_large');
    expect(check.message).toContain(file.name);
    expect(check.message).toContain(words);
  });

  it('refuses types WhatsApp cannot send, with the friendly sentence', () => {
    for (const file of [
      { name: 'a.gif', type: 'image/gif', size: 10 },
      { name: 'a.zip', type: 'application/zip', size: 10 },
      { name: 'a.exe', type: '', size: 10 },
    ]) {
      expect(checkAttachment(file)).toEqual({
        ok: false,
        code: 'unsupported_media_type',
        message: friendlyMessage('unsupported_media_type'),
      });
    }
  });

  it('refuses an empty file', () => {
    expect(checkAttachment({ name: 'empty.txt', type: 'text/plain', size: 0 })).toMatchObject({ ok: false, code: 'invalid_input' });
  });

  it('base64-encodes in chunks, matching the one-shot encoding at every length', () => {
    for (const n of [0, 1, 2, 3, 4, 24_575, 24_576, 24_577, 100_003]) {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 31 + 7) & 0xff;
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  it('reads the bytes of a file', async () => {
    const file = new File([new Uint8Array([1, 2, 3])], 'a.png', { type: 'image/png' });
    expect(Array.from(await readBytes(file))).toEqual([1, 2, 3]);
  });
});
