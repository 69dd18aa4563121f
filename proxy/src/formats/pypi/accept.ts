import type { SimpleVariant } from './names.ts';

/** One media range of an Accept header, with its quality (0–1). */
export interface MediaRange {
  type: string;
  q: number;
}

/** Parse an Accept header into media ranges, in header order. Malformed q values count as 1. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim());
      let q = 1;
      for (const p of params) {
        const m = /^q=([0-9.]+)$/i.exec(p);
        if (m) q = Math.min(1, Number(m[1]) || 0);
      }
      return { type: type.toLowerCase(), q };
    })
    .filter((r) => r.type !== '');
}

const variantOf: Record<string, SimpleVariant> = {
  'application/vnd.pypi.simple.v1+json': 'json',
  'application/vnd.pypi.simple.latest+json': 'json',
  'application/vnd.pypi.simple.v1+html': 'html',
  'application/vnd.pypi.simple.latest+html': 'html',
  'text/html': 'html',
};

/**
 * PEP 691 content negotiation: the representation the client prefers (highest
 * q, earlier in the header on ties). No Accept, `*\/*`, or nothing we serve
 * gives HTML, the representation every client understands (PEP 691 lets a
 * server answer that rather than 406).
 */
export function negotiateSimple(accept: string | undefined): SimpleVariant {
  let best: { variant: SimpleVariant; q: number } | undefined;
  for (const r of parseAccept(accept)) {
    const variant = variantOf[r.type];
    if (!variant || r.q <= 0) continue;
    if (!best || r.q > best.q) best = { variant, q: r.q };
  }
  return best?.variant ?? 'html';
}

export const simpleContentTypes: Record<SimpleVariant, string> = {
  json: 'application/vnd.pypi.simple.v1+json',
  html: 'text/html; charset=utf-8',
};

/** What a proxy asks a PyPI index for: JSON (it carries PEP 700 upload times), else HTML. */
export const upstreamSimpleAccept =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1';
