import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * PGlite is PostgreSQL in one process: a second process on the same files would corrupt them. This lock file
 * (O_EXCL, with the owner's pid) makes the second opener fail with a clear error. A lock left by a process that
 * died (SIGKILL, power loss) is taken over at once, because its pid is no longer alive on this host — a
 * time-based stale lock would make every crash restart wait.
 */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by another docsvc process (pid ${ownerPid}). ` +
        'The embedded database allows one process at a time: stop that process, use another DATA_DIR, ' +
        'or set DATABASE_URL to share a PostgreSQL server between processes.',
    );
    this.name = 'DataDirLockedError';
  }
}

interface LockOwner {
  pid: number;
  host: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

export class DataDirLock {
  private constructor(private readonly path: string) {}

  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const path = join(dataDir, 'docsvc.lock');
    const me: LockOwner = { pid: process.pid, host: hostname() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify(me));
        closeSync(fd);
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readOwner(path);
      if (owner && (owner.host !== me.host || isAlive(owner.pid)))
        throw new DataDirLockedError(dataDir, owner.pid);
      // The owner is gone: move its lock aside atomically so that only one of several racing starters wins.
      try {
        renameSync(path, `${path}.stale-${process.pid}`);
        unlinkSync(`${path}.stale-${process.pid}`);
      } catch {
        /* another starter took it over first; try again */
      }
    }
    throw new DataDirLockedError(dataDir, readOwner(path)?.pid ?? -1);
  }

  release(): void {
    const owner = readOwner(this.path);
    if (owner?.pid === process.pid) unlinkSync(this.path);
  }
}
