import { describe, expect, it } from 'vitest';
import { revealScrollTop, virtualWindow } from './virtual';

const base = { scrollTop: 0, viewportHeight: 400, rowHeight: 40, count: 10_000, overscan: 3 };

describe('virtualWindow', () => {
  it('at the top: the visible rows plus the overscan below', () => {
    expect(virtualWindow(base)).toEqual({
      start: 0,
      end: 13, // 10 visible + 3 overscan
      padTop: 0,
      padBottom: (10_000 - 13) * 40,
      totalHeight: 400_000,
    });
  });

  it('in the middle: overscan on both sides; padding stands in for the rest', () => {
    const w = virtualWindow({ ...base, scrollTop: 40 * 5000 });
    expect(w.start).toBe(4997);
    expect(w.end).toBe(5013);
    expect(w.padTop).toBe(4997 * 40);
    expect(w.padTop + (w.end - w.start) * 40 + w.padBottom).toBe(w.totalHeight);
  });

  it('a partly scrolled row counts as visible (top and bottom)', () => {
    const w = virtualWindow({ ...base, scrollTop: 50, overscan: 0 });
    // rows 1 (partly) .. 11 (partly)
    expect([w.start, w.end]).toEqual([1, 12]);
  });

  it('at the end: never past the last row', () => {
    const w = virtualWindow({ ...base, scrollTop: 40 * 10_000 - 400 });
    expect(w.end).toBe(10_000);
    expect(w.padBottom).toBe(0);
    expect(w.start).toBe(10_000 - 10 - 3);
  });

  it('a scroll position past the end (the list got shorter) shows the last rows', () => {
    const w = virtualWindow({ ...base, count: 20, scrollTop: 40 * 5000 });
    expect([w.start, w.end]).toEqual([7, 20]);
    expect(w.padBottom).toBe(0);
  });

  it('a list shorter than the viewport renders every row', () => {
    expect(virtualWindow({ ...base, count: 3 })).toEqual({ start: 0, end: 3, padTop: 0, padBottom: 0, totalHeight: 120 });
  });

  it('nothing to render: empty list, zero row height', () => {
    expect(virtualWindow({ ...base, count: 0 })).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0, totalHeight: 0 });
    expect(virtualWindow({ ...base, rowHeight: 0 }).end).toBe(0);
  });

  it('a zero-height viewport still renders the row at the scroll position (and overscan)', () => {
    const w = virtualWindow({ ...base, viewportHeight: 0, scrollTop: 400, overscan: 1 });
    expect([w.start, w.end]).toEqual([9, 12]);
  });

  it('bad inputs count as zero', () => {
    const w = virtualWindow({ scrollTop: -50, viewportHeight: NaN, rowHeight: 40, count: 5, overscan: -2 });
    expect([w.start, w.end]).toEqual([0, 1]);
  });
});

describe('revealScrollTop', () => {
  it('a row already in view: no scrolling', () => {
    expect(revealScrollTop(3, 0, 400, 40)).toBe(0);
    expect(revealScrollTop(9, 0, 400, 40)).toBe(0);
  });

  it('a row below: it lands at the bottom edge', () => {
    expect(revealScrollTop(10, 0, 400, 40)).toBe(40);
    expect(revealScrollTop(500, 0, 400, 40)).toBe(501 * 40 - 400);
  });

  it('a row above: it lands at the top edge', () => {
    expect(revealScrollTop(2, 400, 400, 40)).toBe(80);
    expect(revealScrollTop(0, 1234, 400, 40)).toBe(0);
  });

  it('a partly hidden row is brought fully into view', () => {
    expect(revealScrollTop(1, 60, 400, 40)).toBe(40);
    expect(revealScrollTop(10, 20, 400, 40)).toBe(40);
  });
});
