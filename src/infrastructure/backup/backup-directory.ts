import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqlClient } from '../sql/sql-client.js';
import { chainEnd, manifestRecord, type Manifest } from './backup-format.js';
import { erasureEvents } from './store-reader.js';
import { takeBackup, type BackupResult } from './take-backup.js';

/**
 * The directory of scheduled backups (BACKUP_DIR): chains of a full backup and its incrementals, each file with
 * its manifest beside it (`.manifest.json`, so the next link is planned without reading whole files), and the
 * erasure ledger a restore of an older chain needs.
 */
export const LEDGER_FILE = 'erasure-ledger.ndjson';
const SUFFIX = '.backup.gz';

export interface DirectoryPolicy {
  dir: string;
  /** Links in a chain, the full backup included, before the next run starts a new chain. */
  chainLength: number;
  /** Chains kept; older ones are deleted whole, never a link from the middle. */
  retainChains: number;
}

interface Entry {
  file: string;
  manifest: Manifest;
}

/** The directory's backups, oldest first, grouped into chains. */
export async function chains(dir: string): Promise<Entry[][]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(SUFFIX)).sort();
  const groups: Entry[][] = [];
  for (const name of names) {
    const text = await readFile(join(dir, `${name}.manifest.json`), 'utf8').catch(() => undefined);
    const parsed = text ? manifestRecord.safeParse(JSON.parse(text)) : undefined;
    if (!parsed?.success) continue; // not finished, or not ours
    const entry = { file: join(dir, name), manifest: parsed.data };
    const last = groups[groups.length - 1];
    if (entry.manifest.kind === 'full' || !last) groups.push([entry]);
    else last.push(entry);
  }
  return groups;
}

/** What the next scheduled run writes: an incremental while the newest chain has room, else a full backup. */
export async function nextKind(policy: DirectoryPolicy): Promise<'full' | 'incremental'> {
  const newest = (await chains(policy.dir)).at(-1);
  return newest && newest.length < policy.chainLength ? 'incremental' : 'full';
}

/** One scheduled run: an incremental on the newest chain, or a new full backup; then retention and the ledger. */
export async function scheduledBackup(
  sql: SqlClient,
  policy: DirectoryPolicy,
  now: Date,
): Promise<BackupResult & { deleted: string[] }> {
  await mkdir(policy.dir, { recursive: true });
  const existing = await chains(policy.dir);
  const newest = existing[existing.length - 1];
  const continueChain = newest && newest.length < policy.chainLength;
  const tip = continueChain ? newest[newest.length - 1]!.manifest : undefined;
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const file = join(policy.dir, `docsvc-${stamp}-${tip ? 'incremental' : 'full'}${SUFFIX}`);
  const result = await takeBackup(sql, {
    file,
    since: tip ? chainEnd(tip) : null,
    parent: tip?.backupId ?? null,
  });
  await writeFile(`${file}.manifest.json`, JSON.stringify(result.manifest, null, 2));
  const deleted = await applyRetention(policy);
  await writeLedger(sql, policy.dir);
  return { ...result, deleted };
}

async function applyRetention(policy: DirectoryPolicy): Promise<string[]> {
  const all = await chains(policy.dir);
  const old = all.slice(0, Math.max(0, all.length - policy.retainChains)).flat();
  for (const { file } of old) {
    await rm(file, { force: true });
    await rm(`${file}.manifest.json`, { force: true });
  }
  return old.map((e) => e.file);
}

/** Writes every erasure the log records to the ledger file (whole, then renamed into place). */
export async function writeLedger(sql: SqlClient, dir: string): Promise<number> {
  const events = await erasureEvents(sql);
  await mkdir(dir, { recursive: true });
  const target = join(dir, LEDGER_FILE);
  await writeFile(`${target}.partial`, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  await rename(`${target}.partial`, target);
  return events.length;
}
