// Windowing for long lists of fixed-height rows: only the rows in view (plus a few
// either side) are rendered; padding stands in for the rest.

export interface WindowInput {
  /** How far the scroll container is scrolled (px). */
  scrollTop: number;
  /** Height of the scroll container's visible area (px). */
  viewportHeight: number;
  /** Every row is exactly this tall (px). */
  rowHeight: number;
  /** How many rows the list has. */
  count: number;
  /** Extra rows rendered above and below the visible ones. */
  overscan: number;
}

export interface VirtualWindow {
  /** First row to render (inclusive). */
  start: number;
  /** Last row to render (exclusive); `start === end` when there is nothing to render. */
  end: number;
  /** Space above the rendered rows (px): the rows before `start`. */
  padTop: number;
  /** Space below the rendered rows (px): the rows from `end` on. */
  padBottom: number;
  /** Height of the whole list (px). */
  totalHeight: number;
}

function whole(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Which rows to render for a scroll position. Bad inputs (negative, NaN) count as 0. */
export function virtualWindow(input: WindowInput): VirtualWindow {
  const count = whole(input.count);
  const rowHeight = nonNegative(input.rowHeight);
  if (count === 0 || rowHeight === 0) return { start: 0, end: 0, padTop: 0, padBottom: 0, totalHeight: 0 };
  const totalHeight = count * rowHeight;
  const viewport = nonNegative(input.viewportHeight);
  const overscan = whole(input.overscan);
  // A scroll position past the end (the list just got shorter) shows the last screenful.
  const maxScroll = Math.max(0, totalHeight - viewport);
  const scrollTop = Math.min(nonNegative(input.scrollTop), maxScroll);

  const firstVisible = Math.min(count - 1, Math.floor(scrollTop / rowHeight));
  const lastVisible = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight));
  const start = Math.max(0, firstVisible - overscan);
  const end = Math.min(count, Math.max(lastVisible, firstVisible + 1) + overscan);
  return {
    start,
    end,
    padTop: start * rowHeight,
    padBottom: (count - end) * rowHeight,
    totalHeight,
  };
}

/**
 * The scroll position that brings row `index` fully into view, moving as little as
 * possible: unchanged when it already is, else the row lands at the top or bottom edge.
 */
export function revealScrollTop(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = Math.max(0, Math.floor(index)) * rowHeight;
  const bottom = top + rowHeight;
  const current = nonNegative(scrollTop);
  const viewport = nonNegative(viewportHeight);
  if (top < current) return top;
  if (bottom > current + viewport) return Math.max(0, bottom - viewport);
  return current;
}
