/**
 * The authorisation matrix's callers (test/support/auth-matrix/checks.ts has the policy): the keys of
 * test/support/service.ts with the role, coaches and tier each has, and which documents and coaches each may see.
 */
import type { Who } from '../service.js';

export const CALLERS: Who[] = [
  'none',
  'wrong',
  'freeReader',
  'premiumReader',
  'otherReader',
  'editor',
  'otherEditor',
  'admin',
];

export type Role = 'reader' | 'editor' | 'admin';
export type Need = 'public' | Role;
export const RANK: Record<Role, number> = { reader: 0, editor: 1, admin: 2 };

interface Caller {
  role?: Role;
  coaches: '*' | string[];
  tier?: 'free' | 'premium';
}
/** The keys of test/support/service.ts, as its API_KEYS configure them. */
export const CALLER: Record<Who, Caller> = {
  none: { coaches: [] },
  wrong: { coaches: [] },
  freeReader: { role: 'reader', coaches: ['carnivore'], tier: 'free' },
  premiumReader: { role: 'reader', coaches: ['carnivore'], tier: 'premium' },
  otherReader: { role: 'reader', coaches: ['vegan'], tier: 'premium' },
  editor: { role: 'editor', coaches: ['carnivore'] },
  otherEditor: { role: 'editor', coaches: ['vegan'] },
  admin: { role: 'admin', coaches: '*' },
};

export function canSeeCoach(who: Who, coach: string): boolean {
  const c = CALLER[who].coaches;
  return c === '*' || c.includes(coach);
}

export function canSee(who: Who, doc: { coach: string; tier: string }): boolean {
  const c = CALLER[who];
  if (!c.role || !canSeeCoach(who, doc.coach)) return false;
  return c.role !== 'reader' || c.tier === 'premium' || doc.tier === 'free';
}
