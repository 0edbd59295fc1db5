/**
 * The answers, counted by status, code and mutation, and checked for the run's properties: no 5xx or lost
 * connection, no upload slower than the hang limit, no SQL or stack text in an answer, no /etc/passwd text in a
 * document stored from an entity-bearing DOCX.
 */
import type { Mutant } from './mutants.js';
import { HANG_MS } from './options.js';
import { EDITOR_KEY, type Answer, type Service } from './service.js';

const LEAK =
  /\bat \/|\bat [\w.<>]+ \(|node_modules|SELECT |INSERT |UPDATE \w+ SET|syntax error|invalid input syntax|unsupported Unicode|byte sequence|duplicate key|violates|relation "/i;
export const PASSWD = /root:x?:0:0|\/bin\/(ba)?sh|daemon:/;

export class Tally {
  readonly byStatus: Record<string, number> = {};
  readonly byCode: Record<string, number> = {};
  readonly byMutation: Record<string, Record<string, number>> = {};
  readonly serverErrors: Array<{ name: string; status: number; body: string }> = [];
  readonly hangs: Array<{ name: string; ms: number; status: number }> = [];
  readonly leaks: Array<{ name: string; body: string }> = [];
  readonly passwd: string[] = [];
  readonly slowest: Array<{ name: string; ms: number; status: number; code: string }> = [];
  /** Uploads during which the service stopped answering (each was sent again to a fresh one). */
  readonly lost: Array<{ name: string; error: string; alive: boolean }> = [];
  /** Uploads sent again after `503 SERVER_BUSY` (not errors: the service asked to be asked later). */
  busyRetries = 0;
  /** Uploads sent again (same Idempotency-Key) after the connection closed before an answer. */
  connectionRetries = 0;

  /** Counts the answer to `m` and checks it; `svc` is the service that gave it (its log, its stored document). */
  async record(m: Mutant, a: Answer, svc: Service): Promise<void> {
    const { byStatus, byCode, byMutation, serverErrors, hangs, leaks, passwd, slowest } = this;
    byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    const key = `${a.status} ${a.code}`;
    byCode[key] = (byCode[key] ?? 0) + 1;
    (byMutation[m.mutation] ??= {})[key] = (byMutation[m.mutation]![key] ?? 0) + 1;
    if (a.status >= 500 || a.status === 0) {
      if (serverErrors.length < 5)
        console.error(
          `!! ${m.name}: ${a.status} ${a.body.slice(0, 300)}\n-- service log tail:\n${svc.log().slice(-1500)}`,
        );
      serverErrors.push({ name: m.name, status: a.status, body: a.body.slice(0, 500) });
    }
    if (a.ms > HANG_MS) hangs.push({ name: m.name, ms: Math.round(a.ms), status: a.status });
    if (LEAK.test(a.body)) leaks.push({ name: m.name, body: a.body.slice(0, 500) });
    slowest.push({ name: m.name, ms: Math.round(a.ms), status: a.status, code: a.code });
    slowest.sort((x, y) => y.ms - x.ms).splice(5);
    if (a.status >= 200 && a.status < 300 && /xxe|Entities|Laughs/i.test(m.mutation)) {
      const id = (JSON.parse(a.body) as { documentId: string }).documentId;
      const doc = await fetch(`${svc.base}/documents/${id}`, {
        headers: { authorization: `Bearer ${EDITOR_KEY}` },
      });
      const text = await doc.text();
      if (PASSWD.test(text)) passwd.push(m.name);
    }
  }
}
