import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DRAFT_AFTER_MS,
  PRESENCE_REFRESH_MS,
  PresenceReporter,
  collisionWarning,
  joinNames,
  presencePhrases,
  type PresenceEntry,
} from './presence';
import type { PresenceState } from './types';

describe('PresenceReporter', () => {
  let sent: [number, PresenceState][];
  let reporter: PresenceReporter;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    sent = [];
    reporter = new PresenceReporter((id, state) => sent.push([id, state]));
  });

  afterEach(() => {
    reporter.stop();
    vi.useRealTimers();
  });

  it('says viewing on open and left on close', () => {
    reporter.open(3);
    reporter.open(3);
    expect(sent).toEqual([[3, 'viewing']]);
    reporter.close(3);
    reporter.close(3);
    expect(sent).toEqual([
      [3, 'viewing'],
      [3, 'left'],
    ]);
    expect(reporter.conversationId).toBeNull();
  });

  it('opening another conversation leaves the first', () => {
    reporter.open(3);
    reporter.open(4);
    expect(sent).toEqual([
      [3, 'viewing'],
      [3, 'left'],
      [4, 'viewing'],
    ]);
    reporter.close(3); // not open any more: nothing
    expect(sent).toHaveLength(3);
  });

  it('typing is sent at most every 5 s, then draft once the agent stops', () => {
    reporter.open(3);
    reporter.input(3, 'H');
    vi.advanceTimersByTime(1000);
    reporter.input(3, 'Hi');
    vi.advanceTimersByTime(3000);
    reporter.input(3, 'Hi t');
    expect(sent).toEqual([
      [3, 'viewing'],
      [3, 'typing'],
    ]);
    vi.advanceTimersByTime(1000); // 5 s since the last typing
    reporter.input(3, 'Hi th');
    expect(sent.at(-1)).toEqual([3, 'typing']);
    expect(sent).toHaveLength(3);

    vi.advanceTimersByTime(DRAFT_AFTER_MS - 1);
    expect(reporter.state).toBe('typing');
    vi.advanceTimersByTime(1);
    expect(sent.at(-1)).toEqual([3, 'draft']);
    expect(reporter.state).toBe('draft');
  });

  it('typing again after a draft says typing at once', () => {
    reporter.open(3);
    reporter.input(3, 'Hi');
    vi.advanceTimersByTime(DRAFT_AFTER_MS);
    reporter.input(3, 'Hi there');
    expect(sent.map(([, s]) => s)).toEqual(['viewing', 'typing', 'draft', 'typing']);
  });

  it('an empty composer (cleared or sent) is back to viewing, with no draft later', () => {
    reporter.open(3);
    reporter.input(3, 'Hi');
    reporter.input(3, '  ');
    vi.advanceTimersByTime(DRAFT_AFTER_MS * 2);
    expect(sent.map(([, s]) => s)).toEqual(['viewing', 'typing', 'viewing']);
  });

  it('typing in a conversation not open yet opens it', () => {
    reporter.input(5, 'x');
    expect(sent).toEqual([
      [5, 'viewing'],
      [5, 'typing'],
    ]);
  });

  it('sends the current state again every 30 s (the server forgets it after 45 s)', () => {
    reporter.open(3);
    reporter.input(3, 'Hi');
    vi.advanceTimersByTime(DRAFT_AFTER_MS);
    sent = [];
    vi.advanceTimersByTime(PRESENCE_REFRESH_MS);
    expect(sent).toEqual([[3, 'draft']]);
    reporter.close(3);
    sent = [];
    vi.advanceTimersByTime(PRESENCE_REFRESH_MS * 3);
    expect(sent).toEqual([]);
  });

  it('close cancels a pending draft; stop says nothing', () => {
    reporter.open(3);
    reporter.input(3, 'Hi');
    reporter.close(3);
    vi.advanceTimersByTime(DRAFT_AFTER_MS);
    expect(sent.map(([, s]) => s)).toEqual(['viewing', 'typing', 'left']);
    reporter.open(4);
    reporter.stop();
    vi.advanceTimersByTime(PRESENCE_REFRESH_MS);
    expect(sent.map(([, s]) => s)).toEqual(['viewing', 'typing', 'left', 'viewing']);
  });
});

describe('presence words', () => {
  const entry = (agent_name: string, state: PresenceEntry['state'], agent_id = 1): PresenceEntry => ({
    agent_id,
    agent_name,
    state,
    at: 0,
  });

  it('one phrase per colleague, by first name', () => {
    expect(
      presencePhrases([entry('Maya Ruiz', 'typing'), entry('Ben Okafor', 'viewing'), entry('Olga', 'draft')]),
    ).toEqual(['Maya is typing…', 'Ben is viewing', 'Olga has an unsent reply']);
  });

  it('warns when colleagues type or hold a draft', () => {
    expect(collisionWarning([entry('Ben Okafor', 'viewing')])).toBeNull();
    expect(collisionWarning([])).toBeNull();
    expect(collisionWarning([entry('Maya Ruiz', 'typing')])).toBe('Maya is also replying');
    expect(collisionWarning([entry('Maya Ruiz', 'typing'), entry('Ben Okafor', 'draft')])).toBe(
      'Maya and Ben are also replying',
    );
  });

  it('joins names', () => {
    expect(joinNames([])).toBe('');
    expect(joinNames(['A'])).toBe('A');
    expect(joinNames(['A', 'B', 'C'])).toBe('A, B and C');
  });
});
