import { open } from 'node:fs/promises';
import { readBackup } from './backup-file.js';
import { BackupError, chainEnd, erasureRecord, type Manifest, type StoredEvent } from './backup-format.js';

export interface VerifiedLink {
  file: string;
  manifest: Manifest;
}

/** What a restore must know before it writes anything: every erasure the chain and the ledgers record. */
export interface VerifiedChain {
  links: VerifiedLink[];
  /** The latest erasure event per document, from the links' events, their ledgers and the ledger files. */
  erasures: Map<string, StoredEvent>;
}

function documentOf(event: StoredEvent): string | undefined {
  const id = (event.data as { documentId?: unknown } | null)?.documentId;
  return typeof id === 'string' ? id : undefined;
}

function noteErasure(erasures: Map<string, StoredEvent>, event: StoredEvent): void {
  const documentId = documentOf(event);
  if (event.type === 'DocumentErased' && documentId) erasures.set(documentId, event);
}

/** Reads a backup whole: its checksums, order and shapes; returns its manifest. */
export async function verifyFile(
  file: string,
  onEvent: (event: StoredEvent) => void = () => undefined,
): Promise<Manifest> {
  let manifest: Manifest | undefined;
  for await (const record of readBackup(file, (m) => (manifest = m))) {
    if (record.t === 'event' || record.t === 'erasure') onEvent(record);
  }
  return manifest!;
}

/**
 * Checks each file, then that they form one chain in the order given: a full backup first (when `fromFull`),
 * each incremental continuing exactly where the one before it ended.
 */
export async function verifyChain(
  files: readonly string[],
  options: { fromFull: boolean; ledgers?: readonly string[] },
): Promise<VerifiedChain> {
  const erasures = new Map<string, StoredEvent>();
  const links: VerifiedLink[] = [];
  for (const file of files) {
    const manifest = await verifyFile(file, (event) => noteErasure(erasures, event));
    links.push({ file, manifest });
  }
  checkContinuity(links, options.fromFull);
  for (const ledger of options.ledgers ?? []) {
    for (const event of await readLedger(ledger)) noteErasure(erasures, event);
  }
  return { links, erasures };
}

export function checkContinuity(links: readonly VerifiedLink[], fromFull: boolean): void {
  if (fromFull && links[0] && links[0].manifest.kind !== 'full')
    throw new BackupError(
      'BACKUP_CHAIN_BROKEN',
      `${links[0].file} is incremental: a restore starts from a full backup`,
    );
  for (let i = 1; i < links.length; i++) {
    const before = links[i - 1]!;
    const link = links[i]!;
    const parentOk = !link.manifest.parent || link.manifest.parent === before.manifest.backupId;
    if (
      link.manifest.kind !== 'incremental' ||
      link.manifest.since !== chainEnd(before.manifest) ||
      !parentOk
    )
      throw new BackupError(
        'BACKUP_CHAIN_BROKEN',
        `${link.file} does not continue ${before.file} (it starts after ${link.manifest.since ?? 'nothing'}, ` +
          `the other ends at ${chainEnd(before.manifest) ?? 'the beginning'}): a link is missing or out of order`,
      );
  }
}

/** A ledger: a backup file (its erasures part) or the NDJSON file the service keeps in BACKUP_DIR. */
export async function readLedger(file: string): Promise<StoredEvent[]> {
  if (await isGzip(file)) {
    const events: StoredEvent[] = [];
    await verifyFile(file, (event) => {
      if (event.type === 'DocumentErased') events.push(event);
    });
    return events;
  }
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const parsed = erasureRecord.safeParse(safeJson(line));
      if (!parsed.success)
        throw new BackupError('BACKUP_CORRUPT', `${file}: line ${i + 1} is not a ledger entry`);
      return parsed.data;
    });
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => {
    throw new BackupError('BACKUP_NOT_FOUND', `${file}: no such file`);
  });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
