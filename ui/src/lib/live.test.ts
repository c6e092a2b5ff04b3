import { describe, expect, it } from 'vitest';
import { parseLiveEvent } from './live';

describe('parseLiveEvent', () => {
  it('reads a presence event', () => {
    expect(
      parseLiveEvent({ type: 'presence', conversation_id: 4, agent_id: 8, agent_name: 'Maya Ruiz', state: 'typing' }),
    ).toEqual({ type: 'presence', conversation_id: 4, agent_id: 8, agent_name: 'Maya Ruiz', state: 'typing' });
  });

  it('reads a mention', () => {
    expect(parseLiveEvent({ type: 'mentioned', conversation_id: 4, message_id: 99, by_name: 'Ben Okafor' })).toEqual({
      type: 'mentioned',
      conversation_id: 4,
      message_id: 99,
      by_name: 'Ben Okafor',
    });
  });

  it('names an unnamed colleague', () => {
    expect(parseLiveEvent({ type: 'mentioned', conversation_id: 4, message_id: 99, by_name: ' ' })).toMatchObject({
      by_name: 'A colleague',
    });
    expect(parseLiveEvent({ type: 'presence', conversation_id: 4, agent_id: 8, state: 'viewing' })).toMatchObject({
      agent_name: 'A colleague',
    });
  });

  it.each([
    ['hello', { type: 'hello', cursor: 3 }],
    ['poke', { type: 'poke', cursor: 3 }],
    ['a newer type', { type: 'queue_changed', conversation_id: 4 }],
    ['an unknown presence state', { type: 'presence', conversation_id: 4, agent_id: 8, agent_name: 'M', state: 'dancing' }],
    ['a missing agent id', { type: 'presence', conversation_id: 4, agent_name: 'M', state: 'typing' }],
    ['a string id', { type: 'mentioned', conversation_id: '4', message_id: 9, by_name: 'B' }],
    ['a missing message id', { type: 'mentioned', conversation_id: 4, by_name: 'B' }],
    ['null', null],
    ['an array', [1, 2]],
    ['a string', 'presence'],
  ])('ignores %s', (_what, value) => {
    expect(parseLiveEvent(value)).toBeNull();
  });
});
