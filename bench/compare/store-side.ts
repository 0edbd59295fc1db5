/** One event store under test: a command (read the stream, fold, append with the version read), a global read. */
export interface StoreSide {
  name: string;
  /** Reads `streamId`, folds it, appends `events` (NoteAdded) with the version read as the expected version. */
  command(streamId: string, events: ReadonlyArray<{ text: string }>): Promise<void>;
  /** Reads the whole global order in batches of `batchSize`; returns the number of events read. */
  readAll(batchSize: number): Promise<number>;
  close(): Promise<void>;
}
