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
  'already_applied',
  'in_progress',
  'rate_limited',
  'conflict',
  'upstream',
  'network',
  'keyring',
  'local_store',
  'not_logged_in',
  'pending_changes',
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
  /** The server's machine-readable facts about the error (`ApiError.details`), if any. */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown> | null) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
    if (details) this.details = details;
  }
}

/** `details` of an error body when it is a JSON object; anything else is dropped. */
export function errorDetails(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Normalise anything thrown by a backend call into a BackendError.
 * Accepts `{code, message, details?}` objects (Tauri invoke rejections, HTTP bodies),
 * existing BackendErrors, Errors and strings.
 */
export function toBackendError(err: unknown, fallback: ErrorCode = 'internal'): BackendError {
  if (err instanceof BackendError) return err;
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const { code, message, details } = err as { code: unknown; message?: unknown; details?: unknown };
    const text = typeof message === 'string' ? message : String(code);
    return new BackendError(isErrorCode(code) ? code : fallback, text, errorDetails(details));
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
  // A retried change that the server had applied already: it is done (never shown).
  already_applied: 'That change was already made.',
  in_progress: 'That change is being sent right now. Please wait a moment.',
  rate_limited: 'Too many attempts. Please wait a moment and try again.',
  conflict: 'Someone else changed this at the same time. Please try again.',
  upstream: "WhatsApp didn't accept the request. Please try again in a moment.",
  network: "Can't reach the server. Check your connection.",
  keyring: "Couldn't use the system keyring to keep you signed in.",
  local_store: "Couldn't read or write the app's local data.",
  not_logged_in: 'You are not signed in.',
  pending_changes: 'Changes made offline still wait to be sent; go online or discard them first.',
  internal: 'Something went wrong. Please try again.',
};

/**
 * Codes that mean the change is done: a retry whose first attempt the server had
 * applied already. Treated as success, never shown.
 */
export function isDone(err: BackendError): boolean {
  return err.code === 'already_applied';
}

/** What `friendlyMessage` may use besides the code. */
export interface FriendlyContext {
  /** The server the app tried to reach (for `network`). */
  serverUrl?: string;
  /** `BackendError.details`: `retry_after_secs` (`rate_limited`), `owner.name` (`already_claimed`). */
  details?: Record<string, unknown> | null;
}

/** "45 seconds", "1 second", "3 minutes" (rounded up from seconds). */
function waitWords(secs: number): string {
  const s = Math.max(1, Math.ceil(secs));
  if (s < 60) return s === 1 ? '1 second' : `${s} seconds`;
  const min = Math.ceil(s / 60);
  return min === 1 ? '1 minute' : `${min} minutes`;
}

function retryAfterSecs(details: Record<string, unknown> | null | undefined): number | null {
  const secs = details?.retry_after_secs;
  return typeof secs === 'number' && Number.isFinite(secs) && secs > 0 ? secs : null;
}

function ownerName(details: Record<string, unknown> | null | undefined): string | null {
  const owner = errorDetails(details?.owner);
  const name = typeof owner?.name === 'string' ? owner.name.trim() : '';
  return name !== '' ? name : null;
}

/**
 * The user-facing sentence for an error code. Never derived from `message`; only
 * from the code and the structured `details` the server sends with some codes.
 */
export function friendlyMessage(code: ErrorCode, context: FriendlyContext = {}): string {
  if (code === 'network' && context.serverUrl) {
    return `Can't reach the server at ${context.serverUrl}. Check the address and your connection.`;
  }
  if (code === 'rate_limited') {
    const secs = retryAfterSecs(context.details);
    if (secs !== null) return `Too many attempts. Please wait ${waitWords(secs)} and try again.`;
  }
  if (code === 'already_claimed') {
    const name = ownerName(context.details);
    if (name !== null) return `${name} took this conversation first.`;
  }
  return FRIENDLY[code] ?? FRIENDLY.internal;
}

/** `friendlyMessage` for an error, with its details. */
export function errorMessage(err: BackendError, context: Omit<FriendlyContext, 'details'> = {}): string {
  return friendlyMessage(err.code, { ...context, details: err.details });
}
