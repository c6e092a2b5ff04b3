export const ERROR_CODES = [
  'invalid_json',
  'invalid_input',
  'message_too_long',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'invalid_credentials',
  'token_expired',
  'token_revoked',
  'forbidden',
  'invalid_signature',
  'invalid_verify_token',
  'not_found',
  'already_escalated',
  'not_escalated',
  'not_assignee',
  'automation_paused',
  'opt_in_required',
  'window_closed',
  'template_not_approved',
  'marketing_opt_out',
  'already_claimed',
  'rate_limited',
  'conflict',
  'upstream',
  'network',
  'keyring',
  'local_store',
  'not_logged_in',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

/** The one error type the UI sees, whichever backend produced it. */
export class BackendError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

/**
 * Normalise anything thrown by a backend call into a BackendError.
 * Accepts `{code, message}` objects (Tauri invoke rejections, HTTP bodies),
 * existing BackendErrors, Errors and strings.
 */
export function toBackendError(err: unknown, fallback: ErrorCode = 'internal'): BackendError {
  if (err instanceof BackendError) return err;
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const { code, message } = err as { code: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(code);
    return new BackendError(isErrorCode(code) ? code : fallback, text);
  }
  if (err instanceof Error) return new BackendError(fallback, err.message);
  if (typeof err === 'string') return new BackendError(fallback, err);
  return new BackendError(fallback, 'Unknown error');
}

/** Codes meaning the stored login is no longer usable. */
export const SESSION_ENDED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'unauthorized',
  'token_expired',
  'token_revoked',
  'not_logged_in',
]);

const FRIENDLY: Record<ErrorCode, string> = {
  invalid_json: 'The server could not understand the request. Please update the app.',
  invalid_input: 'Some of the information entered is not valid.',
  message_too_long: 'That message is too long for WhatsApp (4096 characters at most).',
  payload_too_large: 'That is too much data to send at once.',
  unsupported_media_type:
    "WhatsApp can't send this kind of file. Send a JPEG or PNG image, an MP4 video, an audio file, or a PDF/Office/text document.",
  unauthorized: 'Your session has ended. Please sign in again.',
  invalid_credentials: 'Wrong email or password.',
  token_expired: 'Your session has expired. Please sign in again.',
  token_revoked: 'You were signed out. Please sign in again.',
  forbidden: "You don't have permission to do that.",
  invalid_signature: 'The server rejected the request signature.',
  invalid_verify_token: 'The server rejected the verification token.',
  not_found: 'That conversation could not be found. It may have been removed.',
  already_escalated: 'This conversation is already with a person.',
  not_escalated: 'This conversation is not escalated any more.',
  not_assignee: 'This conversation is assigned to someone else.',
  automation_paused: 'Automation is paused for this conversation.',
  opt_in_required: 'This person has not agreed to be contacted on WhatsApp yet.',
  window_closed:
    "It's been more than 24 hours since the customer last wrote. WhatsApp only allows an approved template until they reply.",
  template_not_approved: 'This template is not approved by WhatsApp yet, so it cannot be sent.',
  marketing_opt_out: 'This customer asked not to receive marketing messages.',
  already_claimed: 'Someone else took this conversation first.',
  rate_limited: 'Too many attempts. Please wait a moment and try again.',
  conflict: 'Someone else changed this at the same time. Please try again.',
  upstream: "WhatsApp didn't accept the request. Please try again in a moment.",
  network: "Can't reach the server. Check your connection.",
  keyring: "Couldn't use the system keyring to keep you signed in.",
  local_store: "Couldn't read or write the app's local data.",
  not_logged_in: 'You are not signed in.',
  internal: 'Something went wrong. Please try again.',
};

/** The user-facing sentence for an error code. Never derived from `message`. */
export function friendlyMessage(code: ErrorCode, context: { serverUrl?: string } = {}): string {
  if (code === 'network' && context.serverUrl) {
    return `Can't reach the server at ${context.serverUrl}. Check the address and your connection.`;
  }
  return FRIENDLY[code] ?? FRIENDLY.internal;
}
