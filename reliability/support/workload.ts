/**
 * What the mixed load sends (reliability/support/mixed-load.ts) and the checks' services accept: their keys, realistic
 * search bodies, and Markdown texts carrying a unique marker word for the uploads and edits.
 */
import { randomBytes } from 'node:crypto';
import { phrase, TOPICS } from '../../bench/corpus.js';

/** Keys of the checks' services: one admin (waits, projections), one editor and two readers of the coaches. */
export const LOAD_KEYS = {
  admin: `load-admin-${randomBytes(8).toString('hex')}`,
  editor: `load-editor-${randomBytes(8).toString('hex')}`,
  premium: `load-premium-${randomBytes(8).toString('hex')}`,
  free: `load-free-${randomBytes(8).toString('hex')}`,
};

export function loadApiKeys(coaches: string[]): string {
  return JSON.stringify([
    { key: LOAD_KEYS.admin, role: 'admin', coaches: ['*'] },
    { key: LOAD_KEYS.editor, role: 'editor', coaches },
    { key: LOAD_KEYS.premium, role: 'reader', coaches, tier: 'premium' },
    { key: LOAD_KEYS.free, role: 'reader', coaches, tier: 'free' },
  ]);
}

export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
export const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

/** A realistic search body: 2–6 words of one topic, mostly hybrid, k 5–20, a filter on about a third. */
export function searchBody(coachId: string): Record<string, unknown> {
  const topic = Math.floor(Math.random() * TOPICS.length);
  const body: Record<string, unknown> = {
    coachId,
    query: phrase(TOPICS[topic]!, between(2, 6)),
    k: pick([5, 10, 10, 10, 20]),
  };
  const mode = Math.random();
  if (mode < 0.15) body.mode = 'vector';
  else if (mode < 0.3) body.mode = 'text';
  const filter = Math.random();
  if (filter < 0.1) body.filters = { tags: [`topic-${topic}`] };
  else if (filter < 0.2) body.filters = { documentTypes: ['guide'] };
  else if (filter < 0.3) body.filters = { accessTier: 'free' };
  else if (filter < 0.35) body.filters = { publishedAfter: '2020-01-01' };
  return body;
}

/** A unique word: BM25 finds it, and the read model's text shows which write it came from. */
export const newMarker = () => `mk${randomBytes(6).toString('hex')}`;

/** Markdown of 1–8 chunks: a few sections of one topic's words, with the marker in the first paragraph. */
export function text(marker: string): string {
  const topic = pick(TOPICS);
  const parts = [`# ${phrase(topic, 4)}`, `Marker ${marker}. ${phrase(topic, between(10, 30))}.`];
  for (let s = between(0, 5); s > 0; s--) {
    parts.push(`## ${phrase(topic, 3)}`);
    for (let p = between(1, 3); p > 0; p--) parts.push(`${phrase(topic, between(30, 120))}.`);
  }
  return `${parts.join('\n\n')}\n`;
}
