import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BackupError,
  manifestRecord,
  PART_OF,
  PARTS,
  RECORD_SCHEMAS,
  type BackupRecord,
  type HeaderRecord,
  type Manifest,
  type Part,
} from './backup-format.js';

interface PartState {
  count: number;
  hash: Hash;
}

function freshParts(): Record<Part, PartState> {
  return Object.fromEntries(PARTS.map((p) => [p, { count: 0, hash: createHash('sha256') }])) as Record<
    Part,
    PartState
  >;
}

/**
 * Writes a backup file as it is read from the store. It goes to `<file>.partial` and is renamed into place only
 * once complete, so a file with the final name is always whole; parts must come in the format's order.
 */
export class BackupWriter {
  private readonly parts = freshParts();
  private current = 0;
  private readonly gzip: Gzip = createGzip({ level: 6 });
  private readonly out: WriteStream;
  private readonly done: Promise<unknown>;

  private constructor(private readonly file: string) {
    this.out = createWriteStream(`${file}.partial`, { flags: 'wx' });
    this.gzip.pipe(this.out);
    this.done = once(this.out, 'close');
  }

  static async open(file: string, header: HeaderRecord): Promise<BackupWriter> {
    await rm(`${file}.partial`, { force: true });
    const writer = new BackupWriter(file);
    await writer.write(header);
    return writer;
  }

  async write(record: BackupRecord): Promise<void> {
    const part = PART_OF[record.t];
    const index = PARTS.indexOf(part);
    if (index < this.current) throw new Error(`backup part ${part} written after ${PARTS[this.current]}`);
    this.current = index;
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    this.parts[part].count += 1;
    this.parts[part].hash.update(line);
    if (!this.gzip.write(line)) await once(this.gzip, 'drain');
  }

  /** Writes the manifest, flushes, and moves the file into place. */
  async finish(manifest: Omit<Manifest, 't' | 'format' | 'version' | 'parts'>): Promise<Manifest> {
    const parts = Object.fromEntries(
      PARTS.map((p) => [p, { count: this.parts[p].count, sha256: this.parts[p].hash.digest('hex') }]),
    ) as Manifest['parts'];
    const full: Manifest = {
      t: 'manifest',
      format: BACKUP_FORMAT,
      version: BACKUP_FORMAT_VERSION,
      ...manifest,
      parts,
    };
    this.gzip.end(`${JSON.stringify(full)}\n`);
    await this.done;
    await rename(`${this.file}.partial`, this.file);
    return full;
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    this.out.destroy();
    await rm(`${this.file}.partial`, { force: true });
  }
}

/** Splits a byte stream into lines without decoding across chunk boundaries. */
async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, nl + 1));
      yield Buffer.concat(pending);
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield Buffer.concat(pending);
}

const corrupt = (file: string, why: string) => new BackupError('BACKUP_CORRUPT', `${file}: ${why}`);

/**
 * Reads a backup's records in order, checking each line's shape and order as it goes. The manifest's hashes and
 * counts can only be compared at the end: `onManifest` runs then, and the generator throws BACKUP_CORRUPT if they
 * differ, so a caller that must not act on a damaged file verifies it whole first (restore does).
 */
export async function* readBackup(
  file: string,
  onManifest: (manifest: Manifest) => void,
): AsyncGenerator<BackupRecord> {
  const parts = freshParts();
  let current = 0;
  let manifest: Manifest | undefined;
  const input = createReadStream(file).on('error', () => undefined);
  const gunzip = input.pipe(createGunzip());
  input.on('error', (error) => gunzip.destroy(error));
  try {
    for await (const line of lines(gunzip)) {
      if (manifest) throw corrupt(file, 'data after the manifest');
      const record = parseLine(file, line);
      if (record.t === 'manifest') {
        manifest = record;
        continue;
      }
      if (current === 0 && parts.header.count === 0 && record.t !== 'header')
        throw corrupt(file, 'no header: not a docsvc backup');
      const index = PARTS.indexOf(PART_OF[record.t]);
      if (index < current || (record.t === 'header' && parts.header.count > 0))
        throw corrupt(file, `records out of order at ${record.t}`);
      if (record.t === 'header' && record.version !== BACKUP_FORMAT_VERSION)
        throw new BackupError(
          'BACKUP_UNSUPPORTED',
          `${file}: format version ${record.version} is not supported`,
        );
      current = index;
      parts[PART_OF[record.t]].count += 1;
      parts[PART_OF[record.t]].hash.update(line);
      yield record;
    }
  } catch (error) {
    if (error instanceof BackupError) throw error;
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new BackupError('BACKUP_NOT_FOUND', `${file}: no such file`);
    throw corrupt(file, `cannot be read (${e.message})`);
  }
  if (!manifest) throw corrupt(file, 'it ends before its manifest (truncated?)');
  for (const part of PARTS) {
    const expected = manifest.parts[part];
    const actual = { count: parts[part].count, sha256: parts[part].hash.digest('hex') };
    if (!expected || expected.count !== actual.count || expected.sha256 !== actual.sha256)
      throw corrupt(file, `part ${part} does not match its checksum in the manifest`);
  }
  onManifest(manifest);
}

function parseLine(file: string, line: Buffer): BackupRecord | Manifest {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    throw corrupt(file, 'a line is not JSON');
  }
  const t = (value as { t?: unknown } | null)?.t;
  if (t === 'manifest') {
    const parsed = manifestRecord.safeParse(value);
    if (!parsed.success) throw badVersionOr(file, value, 'its manifest is malformed');
    return parsed.data;
  }
  const schema = RECORD_SCHEMAS[t as keyof typeof RECORD_SCHEMAS];
  const parsed = schema?.safeParse(value);
  if (!parsed?.success) throw badVersionOr(file, value, `a ${String(t)} record is malformed`);
  return parsed.data as BackupRecord;
}

function badVersionOr(file: string, value: unknown, why: string): BackupError {
  const v = value as { format?: unknown; version?: unknown };
  if (v.format === BACKUP_FORMAT && v.version !== BACKUP_FORMAT_VERSION)
    return new BackupError(
      'BACKUP_UNSUPPORTED',
      `${file}: format version ${String(v.version)} is not supported`,
    );
  return corrupt(file, why);
}
