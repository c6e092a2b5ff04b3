import type { Template } from './types';

/** A piece of a template body: literal text or a `{{n}}` placeholder. */
export type BodyPart = { kind: 'text'; text: string } | { kind: 'param'; index: number };

const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;

/** The BODY component's text, or `''` when there is none (components are never trusted). */
export function templateBody(template: Pick<Template, 'components'>): string {
  const components = template.components;
  if (!Array.isArray(components)) return '';
  for (const c of components as unknown[]) {
    if (typeof c !== 'object' || c === null) continue;
    const { type, text } = c as { type?: unknown; text?: unknown };
    if (typeof type === 'string' && type.toUpperCase() === 'BODY' && typeof text === 'string') return text;
  }
  return '';
}

/** The body split into text and placeholders, in reading order. */
export function bodyParts(body: string): BodyPart[] {
  const parts: BodyPart[] = [];
  let last = 0;
  for (const m of body.matchAll(PLACEHOLDER)) {
    const at = m.index ?? 0;
    if (at > last) parts.push({ kind: 'text', text: body.slice(last, at) });
    parts.push({ kind: 'param', index: Number(m[1]) });
    last = at + m[0].length;
  }
  if (last < body.length) parts.push({ kind: 'text', text: body.slice(last) });
  return parts;
}

/** The distinct placeholder numbers of a body, ascending (`{{1}}`, `{{2}}`, ...). */
export function placeholders(body: string): number[] {
  const seen = new Set<number>();
  for (const m of body.matchAll(PLACEHOLDER)) seen.add(Number(m[1]));
  return [...seen].sort((a, b) => a - b);
}

/** The body with each `{{n}}` replaced by its value; empty values keep the placeholder. */
export function fillBody(body: string, values: Record<number, string | undefined>): string {
  return body.replace(PLACEHOLDER, (whole, n: string) => {
    const v = values[Number(n)];
    return v !== undefined && v !== '' ? v : whole;
  });
}

export function isApproved(template: Pick<Template, 'status'>): boolean {
  return template.status.toUpperCase() === 'APPROVED';
}

export function isMarketing(template: Pick<Template, 'category'>): boolean {
  return (template.category ?? '').toUpperCase() === 'MARKETING';
}
