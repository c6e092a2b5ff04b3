import { describe, expect, it } from 'vitest';
import { bodyParts, fillBody, isApproved, isMarketing, placeholders, templateBody } from './templates';

describe('template helpers', () => {
  it('templateBody finds the BODY text and tolerates anything else', () => {
    expect(templateBody({ components: [{ type: 'HEADER', text: 'x' }, { type: 'BODY', text: 'Hi {{1}}' }] })).toBe(
      'Hi {{1}}',
    );
    expect(templateBody({ components: [{ type: 'body', text: 'lower' }] })).toBe('lower');
    expect(templateBody({ components: null })).toBe('');
    expect(templateBody({ components: { type: 'BODY', text: 'x' } })).toBe('');
    expect(templateBody({ components: [null, 3, { type: 'BODY' }] })).toBe('');
  });

  it('placeholders are distinct and in numeric order', () => {
    expect(placeholders('{{2}} and {{1}}, again {{2}}; {{10}}')).toEqual([1, 2, 10]);
    expect(placeholders('no params')).toEqual([]);
  });

  it('bodyParts splits text and placeholders', () => {
    expect(bodyParts('Hi {{1}}!')).toEqual([
      { kind: 'text', text: 'Hi ' },
      { kind: 'param', index: 1 },
      { kind: 'text', text: '!' },
    ]);
  });

  it('fillBody keeps empty placeholders visible', () => {
    expect(fillBody('Hi {{1}}, order {{2}}', { 1: 'Maria', 2: '' })).toBe('Hi Maria, order {{2}}');
  });

  it('status and category checks ignore case', () => {
    expect(isApproved({ status: 'approved' })).toBe(true);
    expect(isApproved({ status: 'PENDING' })).toBe(false);
    expect(isMarketing({ category: 'MARKETING' })).toBe(true);
    expect(isMarketing({ category: null })).toBe(false);
  });
});
