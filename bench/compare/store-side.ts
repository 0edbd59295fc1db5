/** One event store under test: a command (read the stream, fold, append with the version read), a global read. */
export interface StoreSide {
  name: string;
  /** Reads `streamId`, folds it, appends `events` (NoteAdded) with the version read as the expected version. */
  command(streamId: string, events: ReadonlyArray<{ text: string }>): Promise<void>;
  /** Reads the whole global order in batches of `batchSize`: how many events came, how many distinct ones. */
  readAll(batchSize: number): Promise<{ events: number; distinct: number }>;
  close(): Promise<void>;
}
