import { describe, expect, it } from 'vitest';
import { BackendError, ERROR_CODES, errorMessage, friendlyMessage, isDone, toBackendError } from './errors';

describe('errors', () => {
  it('toBackendError keeps known codes and maps unknown ones to internal', () => {
    expect(toBackendError({ code: 'conflict', message: 'm' })).toMatchObject({ code: 'conflict', message: 'm' });
    expect(toBackendError({ code: 'nope', message: 'm' }).code).toBe('internal');
    expect(toBackendError(new Error('x'), 'network')).toMatchObject({ code: 'network', message: 'x' });
    const e = new BackendError('keyring', 'k');
    expect(toBackendError(e)).toBe(e);
  });

  it('every code has a friendly sentence', () => {
    for (const code of ERROR_CODES) expect(friendlyMessage(code)).toMatch(/\w.*[.!]$/);
    expect(friendlyMessage('invalid_credentials')).toBe('Wrong email or password.');
    expect(friendlyMessage('network', { serverUrl: 'http://h:1' })).toContain("Can't reach the server at http://h:1");
  });

  it('toBackendError keeps the details object of an {code, message, details} rejection', () => {
    const e = toBackendError({ code: 'rate_limited', message: 'm', details: { retry_after_secs: 30 } });
    expect(e).toMatchObject({ code: 'rate_limited', details: { retry_after_secs: 30 } });
    expect(toBackendError({ code: 'conflict', message: 'm', details: [1] }).details).toBeUndefined();
    expect(toBackendError({ code: 'conflict', message: 'm' }).details).toBeUndefined();
  });

  it('rate_limited says how long to wait when details.retry_after_secs is given', () => {
    const plain = 'Too many attempts. Please wait a moment and try again.';
    expect(friendlyMessage('rate_limited')).toBe(plain);
    expect(friendlyMessage('rate_limited', { details: { retry_after_secs: 42 } })).toBe(
      'Too many attempts. Please wait 42 seconds and try again.',
    );
    expect(friendlyMessage('rate_limited', { details: { retry_after_secs: 1 } })).toContain('wait 1 second and');
    expect(friendlyMessage('rate_limited', { details: { retry_after_secs: 0.2 } })).toContain('wait 1 second and');
    expect(friendlyMessage('rate_limited', { details: { retry_after_secs: 60 } })).toContain('wait 1 minute and');
    expect(friendlyMessage('rate_limited', { details: { retry_after_secs: 601 } })).toContain('wait 11 minutes and');
    for (const bad of ['30', -5, 0, Number.NaN, null]) {
      expect(friendlyMessage('rate_limited', { details: { retry_after_secs: bad } })).toBe(plain);
    }
  });

  it('already_claimed names the owner from details.owner.name', () => {
    expect(friendlyMessage('already_claimed', { details: { owner: { id: 9, name: 'Olga K' } } })).toBe(
      'Olga K took this conversation first.',
    );
    const plain = 'Someone else took this conversation first.';
    expect(friendlyMessage('already_claimed')).toBe(plain);
    expect(friendlyMessage('already_claimed', { details: { owner: null } })).toBe(plain);
    expect(friendlyMessage('already_claimed', { details: { owner: { name: '  ' } } })).toBe(plain);
    expect(friendlyMessage('already_claimed', { details: { owner: 'Olga' } })).toBe(plain);
  });

  it('never reads the message, only the code and details', () => {
    const e = new BackendError('rate_limited', 'too many failed logins; try again in 99 s');
    expect(errorMessage(e)).toBe('Too many attempts. Please wait a moment and try again.');
    const d = new BackendError('rate_limited', 'whatever', { retry_after_secs: 5 });
    expect(errorMessage(d)).toBe('Too many attempts. Please wait 5 seconds and try again.');
    expect(errorMessage(new BackendError('network', 'x'), { serverUrl: 'http://h:1' })).toContain('http://h:1');
  });

  it('knows the outbox codes: pending_changes and in_progress in words, already_applied means done', () => {
    expect(toBackendError({ code: 'pending_changes', message: 'x' }).code).toBe('pending_changes');
    expect(toBackendError({ code: 'in_progress', message: 'x' }).code).toBe('in_progress');
    expect(friendlyMessage('pending_changes')).toBe(
      'Changes made offline still wait to be sent; go online or discard them first.',
    );
    expect(friendlyMessage('in_progress')).toContain('being sent right now');
    expect(isDone(new BackendError('already_applied', 'x'))).toBe(true);
    expect(isDone(new BackendError('conflict', 'x'))).toBe(false);
  });
});
