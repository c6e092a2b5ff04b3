// Whether the window has the person's attention (focused and visible), for the
// desktop app's notifications: news about the thread on screen needs none.

/** True if the document is visible and its window has the focus. */
export function windowFocused(doc: Document = document): boolean {
  return doc.visibilityState !== 'hidden' && doc.hasFocus();
}

/**
 * Calls `cb` with `windowFocused()` whenever the window gains or loses the focus or
 * is hidden or shown again. Returns a function that stops watching.
 */
export function watchWindowFocus(cb: (focused: boolean) => void, win: Window = window): () => void {
  const doc = win.document;
  // `blur` fires before the document has lost the focus in some engines: it means "not focused".
  const onFocus = () => cb(windowFocused(doc));
  const onBlur = () => cb(false);
  const onVisibility = () => cb(windowFocused(doc));
  win.addEventListener('focus', onFocus);
  win.addEventListener('blur', onBlur);
  doc.addEventListener('visibilitychange', onVisibility);
  return () => {
    win.removeEventListener('focus', onFocus);
    win.removeEventListener('blur', onBlur);
    doc.removeEventListener('visibilitychange', onVisibility);
  };
}
