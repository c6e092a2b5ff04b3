// Files an agent sends from the composer: which types WhatsApp takes, how big
// they may be, and reading them into bytes. The same table as the server's
// (crates/server/src/outbound.rs), so that most refusals need no round trip.

import { friendlyMessage } from './errors';
import { formatBytes } from './format';

export type AttachmentKind = 'image' | 'video' | 'audio' | 'document';

/** A file as the backend sends it. */
export interface AttachmentFile {
  name: string;
  /** The MIME type (never empty: guessed from the name when the browser gave none). */
  type: string;
  bytes: Uint8Array;
}

/** What the server answers to an upload (`POST /v1/conversations/{id}/attachments`). */
export interface UploadedAttachment {
  id: number;
  kind: AttachmentKind;
  mime_type: string;
  filename: string | null;
  size: number;
  sha256: string;
}

const MB = 1024 * 1024;

/** Meta's limits by kind. */
export const MAX_ATTACHMENT_BYTES: Record<AttachmentKind, number> = {
  image: 5 * MB,
  video: 16 * MB,
  audio: 16 * MB,
  document: 100 * MB,
};

/** The MIME types WhatsApp sends, and as what. */
export const ATTACHMENT_TYPES: Readonly<Record<string, AttachmentKind>> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'video/mp4': 'video',
  'video/3gpp': 'video',
  'audio/aac': 'audio',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/ogg': 'audio',
  'audio/amr': 'audio',
  'application/pdf': 'document',
  'text/plain': 'document',
  'application/msword': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.ms-excel': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.ms-powerpoint': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
};

/** Other names browsers and systems give the same types. */
const ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/x-m4a': 'audio/mp4',
  'audio/m4a': 'audio/mp4',
  'audio/x-aac': 'audio/aac',
};

/** The type by file extension, for files the browser gives no (or a generic) type. */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  mp4: 'video/mp4',
  '3gp': 'video/3gpp',
  aac: 'audio/aac',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  amr: 'audio/amr',
  pdf: 'application/pdf',
  txt: 'text/plain',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** The file input's `accept`: the types above, and the Office extensions (some systems give those no type). */
export const ATTACHMENT_ACCEPT = [...Object.keys(ATTACHMENT_TYPES), '.doc', '.docx', '.xls', '.xlsx', '.ppt', '.pptx'].join(',');

/** A file's MIME type, normalised; guessed from the name when missing or generic. '' when unknown. */
export function attachmentMime(file: { name: string; type: string }): string {
  let mime = file.type.split(';')[0].trim().toLowerCase();
  mime = ALIASES[mime] ?? mime;
  if (mime === '' || mime === 'application/octet-stream') {
    const dot = file.name.lastIndexOf('.');
    const ext = dot >= 0 ? file.name.slice(dot + 1).toLowerCase() : '';
    return BY_EXTENSION[ext] ?? mime;
  }
  return mime;
}

/** How WhatsApp sends a file of this type, or null when it cannot. */
export function attachmentKind(mime: string): AttachmentKind | null {
  return ATTACHMENT_TYPES[mime] ?? null;
}

const LIMIT_WORDS: Record<AttachmentKind, string> = {
  image: 'images',
  video: 'videos',
  audio: 'audio files',
  document: 'documents',
};

export type AttachmentCheck =
  | { ok: true; kind: AttachmentKind; mime: string }
  | { ok: false; code: 'unsupported_media_type' | 'payload_too_large' | 'invalid_input'; message: string };

/** Whether WhatsApp can send `file`, checked before any upload. */
export function checkAttachment(file: { name: string; type: string; size: number }): AttachmentCheck {
  const mime = attachmentMime(file);
  const kind = attachmentKind(mime);
  if (kind === null) {
    return { ok: false, code: 'unsupported_media_type', message: friendlyMessage('unsupported_media_type') };
  }
  if (file.size <= 0) {
    return { ok: false, code: 'invalid_input', message: `“${file.name}” is empty.` };
  }
  const max = MAX_ATTACHMENT_BYTES[kind];
  if (file.size > max) {
    return {
      ok: false,
      code: 'payload_too_large',
      message: `“${file.name}” is ${formatBytes(file.size)}. WhatsApp sends ${LIMIT_WORDS[kind]} of at most ${formatBytes(max)}.`,
    };
  }
  return { ok: true, kind, mime };
}

/** The bytes of a file (FileReader where `Blob.arrayBuffer` is missing). */
export async function readBytes(blob: Blob): Promise<Uint8Array> {
  if (typeof blob.arrayBuffer === 'function') return new Uint8Array(await blob.arrayBuffer());
  return new Promise<Uint8Array>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(reader.error ?? new Error('Could not read the file'));
    reader.readAsArrayBuffer(blob);
  });
}

/**
 * Base64 of `bytes`, a chunk at a time: no huge argument lists (stack overflow)
 * and no single giant binary string, even for files of tens of megabytes.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  // A multiple of 3, so that each chunk encodes without padding.
  const CHUNK = 3 * 8192;
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) {
    // At most 24 576 arguments: well inside every engine's limit.
    parts.push(btoa(String.fromCharCode(...bytes.subarray(i, i + CHUNK))));
  }
  return parts.join('');
}
