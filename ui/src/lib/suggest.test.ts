import { describe, expect, it } from 'vitest';
import { cannedQuery, insertMention, matchAgents, matchCanned, mentionAt, mentionHandle } from './suggest';
import { canned, colleagues } from '../test/fixtures';

describe('mentionAt', () => {
  it('finds the @partial right before the caret', () => {
    expect(mentionAt('@', 1)).toEqual({ start: 0, end: 1, query: '' });
    expect(mentionAt('cc @ma', 6)).toEqual({ start: 3, end: 6, query: 'ma' });
    expect(mentionAt('cc @maya.r', 10)).toEqual({ start: 3, end: 10, query: 'maya.r' });
    expect(mentionAt('(@ben', 5)).toEqual({ start: 1, end: 5, query: 'ben' });
  });

  it('looks only before the caret', () => {
    expect(mentionAt('@maya and more', 3)).toEqual({ start: 0, end: 3, query: 'ma' });
    expect(mentionAt('@maya and more', 14)).toBeNull();
  });

  it('is not fooled by email addresses or finished mentions', () => {
    expect(mentionAt('write to help@acme', 18)).toBeNull();
    expect(mentionAt('@maya ', 6)).toBeNull();
    expect(mentionAt('no mention', 10)).toBeNull();
    expect(mentionAt('', 0)).toBeNull();
  });
});

describe('mentionHandle', () => {
  it('is the email local part, lower-case', () => {
    expect(mentionHandle({ name: 'Maya Ruiz', email: 'Maya.Ruiz@example.com' })).toBe('maya.ruiz');
    expect(mentionHandle({ name: 'Olga Kim', email: 'olga.k@example.com' })).toBe('olga.k');
  });

  it('falls back to the first name when the local part cannot be a handle', () => {
    expect(mentionHandle({ name: 'Ana Agent', email: 'ana+support@example.com' })).toBe('ana');
    expect(mentionHandle({ name: 'Ben Okafor', email: 'ben.@example.com' })).toBe('ben');
  });
});

describe('matchAgents', () => {
  it('matches the first name or the email local part by prefix, any case, by name', () => {
    expect(matchAgents(colleagues, 'm').map((a) => a.id)).toEqual([8]);
    expect(matchAgents(colleagues, 'MAYA.R').map((a) => a.id)).toEqual([8]);
    expect(matchAgents(colleagues, 'olga.').map((a) => a.id)).toEqual([10]);
    expect(matchAgents(colleagues, 'kim')).toEqual([]);
    expect(matchAgents(colleagues, '').map((a) => a.name)).toEqual(['Ana Agent', 'Ben Okafor', 'Maya Ruiz', 'Olga Kim']);
    expect(matchAgents(colleagues, '', 2)).toHaveLength(2);
  });
});

describe('insertMention', () => {
  it('replaces the partial with @handle and a space, and puts the caret after it', () => {
    expect(insertMention('cc @ma please', { start: 3, end: 6, query: 'ma' }, 'maya.ruiz')).toEqual({
      text: 'cc @maya.ruiz please',
      caret: 14,
    });
    expect(insertMention('@b', { start: 0, end: 2, query: 'b' }, 'ben')).toEqual({ text: '@ben ', caret: 5 });
  });
});

describe('canned responses', () => {
  const list = [
    canned({ id: 1, shortcut: 'hello', title: 'Greeting' }),
    canned({ id: 2, shortcut: 'refund', title: 'Refund policy' }),
    canned({ id: 3, shortcut: 'thanks', title: 'Closing: refund done' }),
  ];

  it('a search is a / that starts the text, on one line', () => {
    expect(cannedQuery('/')).toBe('');
    expect(cannedQuery('/ref')).toBe('ref');
    expect(cannedQuery('/refund policy')).toBe('refund policy');
    expect(cannedQuery('hi /ref')).toBeNull();
    expect(cannedQuery('/ref\nmore')).toBeNull();
    expect(cannedQuery('')).toBeNull();
  });

  it('matches shortcut or title, shortcuts starting with the search first', () => {
    expect(matchCanned(list, '').map((c) => c.id)).toEqual([1, 2, 3]);
    expect(matchCanned(list, 'REF').map((c) => c.id)).toEqual([2, 3]);
    expect(matchCanned(list, 'greet').map((c) => c.id)).toEqual([1]);
    expect(matchCanned(list, 'nothing')).toEqual([]);
  });
});
