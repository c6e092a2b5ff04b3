// Both themes of app.css keep body text readable: WCAG 2 contrast of at least 4.5:1
// for every text colour on the backgrounds it is used on.
/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Read as a file: vitest does not load CSS (even `?raw`) into tests.
const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'app.css'), 'utf8');

type Vars = Record<string, string>;

function block(selector: RegExp): string {
  const m = selector.exec(css);
  if (!m) throw new Error(`no block ${selector}`);
  return m[1];
}

function vars(body: string): Vars {
  const out: Vars = {};
  for (const m of body.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)) out[m[1]] = m[2].trim();
  return out;
}

const light = vars(block(/:root,\s*:root\[data-theme='light'\]\s*\{([^}]*)\}/));
// Dark overrides light: what it does not set, it inherits from :root.
const dark = { ...light, ...vars(block(/:root\[data-theme='dark'\]\s*\{([^}]*)\}/)) };

function rgb(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`not a hex colour: ${hex}`);
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
}

function luminance(hex: string): number {
  const [r, g, b] = rgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Text colour → the backgrounds it is shown on. */
const PAIRS: [string, string[]][] = [
  ['--text', ['--bg', '--surface', '--surface-2', '--surface-hover', '--accent-soft', '--warn-soft', '--danger-soft', '--bubble-customer']],
  ['--text-2', ['--bg', '--surface', '--surface-2', '--surface-hover', '--accent-soft']],
  ['--text-3', ['--bg', '--surface', '--surface-2', '--surface-hover']],
  ['--accent-text', ['--accent', '--accent-hover']],
  ['--accent-ink', ['--bg', '--surface', '--accent-soft']],
  ['--bubble-agent-text', ['--bubble-agent']],
  ['--bubble-bot-text', ['--bubble-bot']],
  ['--warn', ['--warn-soft', '--surface']],
  ['--danger', ['--danger-soft', '--surface', '--bg']],
  ['--ok', ['--ok-soft']],
];

describe('theme contrast', () => {
  it('computes WCAG contrast correctly', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // a known pair: #767676 on white is the classic 4.54:1
    expect(contrast('#767676', '#fff')).toBeCloseTo(4.54, 2);
  });

  it('both themes define the same colour tokens, and dark really differs', () => {
    expect(Object.keys(light).length).toBeGreaterThan(30);
    for (const key of Object.keys(vars(block(/:root\[data-theme='dark'\]\s*\{([^}]*)\}/)))) {
      expect(light, `${key} is set in dark only`).toHaveProperty(key);
    }
    expect(dark['--bg']).not.toBe(light['--bg']);
    expect(dark['--text']).not.toBe(light['--text']);
  });

  for (const [name, theme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    it(`${name}: text colours have at least 4.5:1 on their backgrounds`, () => {
      const failures: string[] = [];
      for (const [fg, bgs] of PAIRS) {
        for (const bg of bgs) {
          const ratio = contrast(theme[fg], theme[bg]);
          if (ratio < 4.5) failures.push(`${fg} ${theme[fg]} on ${bg} ${theme[bg]}: ${ratio.toFixed(2)}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
