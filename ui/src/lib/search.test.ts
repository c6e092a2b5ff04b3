import { describe, expect, it } from 'vitest';
import { foldText, queryTerms, searchConversations, snippetParts } from './search';
import { conversation } from '../test/fixtures';

describe('search', () => {
  it('folds case and accents', () => {
    expect(foldText('José ÑANDÚ Åsa')).toBe('jose nandu asa');
    expect(queryTerms('  Jo-sé, +49 151 ')).toEqual(['jo', 'se', '49', '151']);
  });

  const list = [
    conversation({
      id: 1,
      contact: { id: 1, wa_id: '4915112345678', bsuid: null, name: 'José Müller' },
      labels: ['VIP', 'Rückerstattung'],
      last_message_preview: 'Where is my refund?',
    }),
    conversation({
      id: 2,
      contact: { id: 2, wa_id: '15551230001', bsuid: null, name: 'Maria Lopez' },
      last_message_preview: 'I want to talk to a person',
    }),
  ];

  it('matches word prefixes of name, number, labels and preview, ignoring case and accents', () => {
    expect(searchConversations(list, 'jose')).toEqual([
      { conversation_id: 1, message_id: null, snippet: '[José] Müller' },
    ]);
    expect(searchConversations(list, 'MUL').map((h) => h.conversation_id)).toEqual([1]);
    expect(searchConversations(list, 'rucker')[0].snippet).toBe('[Rückerstattung]');
    expect(searchConversations(list, '+4915')[0].snippet).toBe('[4915112345678]');
    expect(searchConversations(list, 'refu')[0].snippet).toBe('Where is my [refund]?');
    expect(searchConversations(list, 'per')).toEqual([
      { conversation_id: 2, message_id: null, snippet: 'I want to talk to a [person]' },
    ]);
  });

  it('needs every word to match (in any field); not inside words', () => {
    expect(searchConversations(list, 'maria person')).toEqual([
      { conversation_id: 2, message_id: null, snippet: '[Maria] Lopez · I want to talk to a [person]' },
    ]);
    expect(searchConversations(list, 'maria refund')).toEqual([]);
    expect(searchConversations(list, 'opez')).toEqual([]);
    expect(searchConversations(list, '  ')).toEqual([]);
  });

  it('snippetParts splits bracketed matches from plain text', () => {
    expect(snippetParts('Hi [Ana], your [refund]')).toEqual([
      { text: 'Hi ', mark: false },
      { text: 'Ana', mark: true },
      { text: ', your ', mark: false },
      { text: 'refund', mark: true },
    ]);
    expect(snippetParts('<b>plain</b>')).toEqual([{ text: '<b>plain</b>', mark: false }]);
    expect(snippetParts('')).toEqual([]);
  });
});
