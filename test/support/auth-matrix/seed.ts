/** The authorisation matrix's corpus: the documents it seeds, and the marker words a caller must never get. */
import { randomBytes } from 'node:crypto';
import type { TestService, Who } from '../service.js';
import { canSee } from './callers.js';

export type DocKey = 'carnivoreFree' | 'carnivorePremium' | 'vegan';
export interface SeedDoc {
  id: string;
  coach: string;
  tier: 'free' | 'premium';
  marker: string;
}
export interface Fixture {
  docs: Record<DocKey, SeedDoc>;
  /** The global position after the seeding (search waits for it). */
  position: string;
  /** A moment after the seeding. */
  seededAt: string;
}

const word = () => `Zq${randomBytes(5).toString('hex')}x`;
/** What every seeded document says, so that one search finds them all. */
export const COMMON_WORDS = 'ledger protein creatine';

/**
 * Three documents, each with a marker word of its own in title and text and a second version (so that versions,
 * diff and rollback have something to show): carnivore's free and premium ones, and the vegan coach's.
 */
export async function seed(svc: TestService): Promise<Fixture> {
  const docs = {} as Record<DocKey, SeedDoc>;
  let position = '';
  const specs: Array<[DocKey, string, 'free' | 'premium']> = [
    ['carnivoreFree', 'carnivore', 'free'],
    ['carnivorePremium', 'carnivore', 'premium'],
    ['vegan', 'vegan', 'premium'],
  ];
  for (const [key, coach, tier] of specs) {
    const marker = word();
    // A file (so that GET …/file has one to give), its marker in the text, the title and the metadata.
    const form = new FormData();
    form.set('coachId', coach);
    form.set(
      'metadata',
      JSON.stringify({
        title: `Notes ${marker}`,
        documentType: 'guide',
        tags: ['matrix', marker],
        accessTier: tier,
        author: marker,
      }),
    );
    form.set(
      'file',
      new Blob([`The ${COMMON_WORDS} ${marker} notes, first draft.\n`]),
      `notes-${marker}.txt`,
    );
    const created = await svc.request('POST', '/documents', { as: 'admin', form });
    if (created.status !== 201) throw new Error(`seeding ${key}: ${created.status} ${created.bytes}`);
    const id = created.body.documentId as string;
    const edited = await svc.request('PATCH', `/documents/${id}`, {
      as: 'admin',
      json: {
        content: `The ${COMMON_WORDS} ${marker} notes, second draft.`,
        changeSummary: `redraft ${marker}`,
      },
    });
    if (edited.status !== 200) throw new Error(`editing ${key}: ${edited.status} ${edited.bytes}`);
    position = edited.body.position;
    docs[key] = { id, coach, tier, marker };
  }
  return { docs, position, seededAt: new Date().toISOString() };
}

/** The marker words a caller must never get. */
export function forbiddenMarkers(who: Who, f: Fixture): string[] {
  return Object.values(f.docs)
    .filter((d) => !canSee(who, d))
    .map((d) => d.marker);
}
