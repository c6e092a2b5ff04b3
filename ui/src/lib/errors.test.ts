import { describe, expect, it } from 'vitest';
import { BackendError, ERROR_CODES, friendlyMessage, toBackendError } from './errors';

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
});
