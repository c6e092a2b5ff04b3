import { describe, expect, it } from 'vitest';
import { canManage, quickReplyId, viewFromHash } from './route';

describe('routes', () => {
  it('names the view of a hash; anything else is the inbox', () => {
    expect(viewFromHash('#/board')).toBe('board');
    expect(viewFromHash('#/metrics/')).toBe('metrics');
    expect(viewFromHash('#/inbox')).toBe('inbox');
    expect(viewFromHash('')).toBe('inbox');
    expect(viewFromHash('#/boards')).toBe('inbox');
    expect(viewFromHash('#/quick-reply/4')).toBe('inbox');
    expect(quickReplyId('#/board')).toBeNull();
  });

  it('only managers and admins manage', () => {
    expect(canManage('manager')).toBe(true);
    expect(canManage('admin')).toBe(true);
    expect(canManage('agent')).toBe(false);
    expect(canManage('viewer')).toBe(false);
    expect(canManage(undefined)).toBe(false);
  });
});
