import type { Report } from './support.js';
export async function scalingSection(_r: Report, _s: string): Promise<void> {}
