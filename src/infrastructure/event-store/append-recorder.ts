/** What metrics hear of the event store: the types of the events of each committed append. */
export interface AppendRecorder {
  appended(types: readonly string[]): void;
}

export const noAppendRecorder: AppendRecorder = { appended: () => undefined };
