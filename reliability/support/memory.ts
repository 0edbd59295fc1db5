/** Resident memory of the service: sampled by the soak check (reliability/soak.ts), reported by the load check. */
import { readFileSync } from 'node:fs';

/** Resident memory of a process, MB (VmRSS of /proc/<pid>/status; the service's workers are its threads). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}
