import { AppError } from '../../domain/errors.js';

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

export class UnauthorizedError extends AppError {
  readonly code = 'UNAUTHORIZED';
  readonly status = 401;
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
}
