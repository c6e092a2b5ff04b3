import { describe, expect, it, vi } from 'vitest';
import { Commands } from './commands';

describe('Commands', () => {
  it('runs the newest registration; unregistering falls back to the one before', () => {
    const commands = new Commands();
    const first = vi.fn();
    const second = vi.fn(() => true);
    expect(commands.run('reply')).toBe(false);
    const off1 = commands.register('reply', first);
    const off2 = commands.register('reply', second);
    expect(commands.run('reply')).toBe(true);
    expect(second).toHaveBeenCalledTimes(1);
    expect(first).not.toHaveBeenCalled();
    off2();
    expect(commands.run('reply')).toBe(true);
    expect(first).toHaveBeenCalledTimes(1);
    off1();
    expect(commands.has('reply')).toBe(false);
    expect(commands.run('reply')).toBe(false);
    // Unregistering twice is harmless.
    off1();
  });

  it('a handler that cannot act says so', () => {
    const commands = new Commands();
    commands.register('claim', () => false);
    expect(commands.run('claim')).toBe(false);
    expect(commands.has('claim')).toBe(true);
  });
});
