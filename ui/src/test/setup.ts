import '@testing-library/jest-dom/vitest';
import { afterEach } from 'vitest';

// The list's filter and sort, unread marks and the theme are kept in localStorage:
// every test starts without them.
afterEach(() => localStorage.clear());
