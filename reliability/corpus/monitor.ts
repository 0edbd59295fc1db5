/**
 * The running service, watched: its resident memory sampled every 250 ms (the peak, and the uploads in flight then,
 * are reported), an exit nobody asked for counted as a crash, and a fresh service on the same data started in its
 * place so that the run goes on and counts the rest.
 */
import { readFileSync } from 'node:fs';
import { startService, type Service } from './service.js';

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export class Monitor {
  svc: Service;
  /** The uploads in flight, named in a crash and at the memory peak. */
  current: string[] = [];
  maxRss = 0;
  maxRssAt = '';
  crashes = 0;
  readonly crashLog: Array<{ code: number | null; during: string[] }> = [];
  private alive = true;
  /** Services killed on purpose (they stopped answering): their exit is not a crash. */
  private readonly replaced = new Set<Service>();
  /** One restart at a time, shared by every worker that finds the service gone. */
  private restarting: Promise<void> | undefined;
  private readonly sampler: NodeJS.Timeout;
  private readonly dataDir: string;

  constructor(svc: Service, dataDir: string) {
    this.svc = svc;
    this.dataDir = dataDir;
    this.sampler = setInterval(() => {
      const mb = rssMb(this.svc.child.pid!);
      if (mb > this.maxRss) [this.maxRss, this.maxRssAt] = [mb, this.current.join(', ')];
    }, 250);
    this.watch(svc);
  }

  private watch(s: Service): void {
    void s.exited.then((code) => {
      if (s !== this.svc || !this.alive || this.replaced.has(s)) return;
      this.crashes++;
      this.crashLog.push({ code, during: [...this.current] });
      console.error(`!! service exited (${code}) during ${this.current.join(', ')}`);
    });
  }

  private async replace(old: Service): Promise<Service> {
    this.replaced.add(old);
    if (old.child.exitCode === null && old.child.signalCode === null) {
      old.child.kill('SIGKILL');
      await old.exited;
    }
    return startService(this.dataDir);
  }

  private async swap(next: () => Promise<Service>): Promise<void> {
    this.restarting ??= next().then((s) => {
      this.svc = s;
      this.watch(s);
      this.restarting = undefined;
    });
    await this.restarting;
  }

  /** Crashed meanwhile: a fresh service on the same data, so that the run goes on and counts the rest. */
  async restartIfExited(): Promise<void> {
    if (this.svc.child.exitCode !== null || this.svc.child.signalCode !== null)
      await this.swap(() => startService(this.dataDir));
  }

  /** The service no longer answers at all (it exited, or stopped listening while alive): replaced by a fresh one. */
  async replaceUnanswering(): Promise<void> {
    await this.swap(() => this.replace(this.svc));
  }

  /**
   * Before the innocent uploads: a fresh service if the last one exited. This one is not watched: a crash now shows
   * as a failed innocent upload and health check.
   */
  async ensureRunning(): Promise<void> {
    if (this.svc.child.exitCode !== null) this.svc = await startService(this.dataDir);
  }

  /** Stops sampling and watching, and the service (SIGTERM, SIGKILL after 20 s). */
  async stop(): Promise<void> {
    clearInterval(this.sampler);
    this.alive = false;
    this.svc.child.kill('SIGTERM');
    await Promise.race([this.svc.exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (this.svc.child.exitCode === null) this.svc.child.kill('SIGKILL');
  }
}
