import { AppError } from './errors.js';

/**
 * The access policy, shared by the command and the query side: which coaches a caller's key reaches, which tier
 * of documents it sees, and what its role allows. Keys themselves are parsed in infrastructure/auth.
 */
export type Role = 'admin' | 'editor' | 'reader';
export type Tier = 'free' | 'premium';

/** Who is calling, from their API key. */
export interface Principal {
  keyId: string;
  role: Role;
  /** '*' = every coach. */
  coaches: '*' | ReadonlySet<string>;
  tier: Tier;
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
}

const RANK: Record<Role, number> = { reader: 0, editor: 1, admin: 2 };

export function hasRole(p: Principal, role: Role): boolean {
  return RANK[p.role] >= RANK[role];
}

export function canSeeCoach(p: Principal, coachId: string): boolean {
  return p.coaches === '*' || p.coaches.has(coachId);
}

/** A free reader never learns that a premium document exists. Editors and admins see every tier of their coaches. */
export function canSeeTier(p: Principal, accessTier: string | null): boolean {
  return p.role !== 'reader' || p.tier === 'premium' || accessTier === 'free';
}

/** A document is seen by keys of its coach, and of its tier (another coach's is as unknown as a missing one). */
export function canSeeDocument(p: Principal, doc: { coachId: string; accessTier: string | null }): boolean {
  return canSeeCoach(p, doc.coachId) && canSeeTier(p, doc.accessTier);
}

export function assertCoach(p: Principal, coachId: string): void {
  if (!canSeeCoach(p, coachId)) throw new ForbiddenError(`this key has no access to coach ${coachId}`);
}
