import type { Report } from './support.js';
export async function rebuildSection(_r: Report, _s: string): Promise<void> {}
