/**
 * A decider (emmett's shape): pure functions, no clock, no ids, no I/O — time and ids come in on the command.
 * The generic command handler folds a stream's events with `evolve`, asks `decide`, and appends what it returns.
 */
export interface Decider<State, Command, Event> {
  initialState(): State;
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
}

export function fold<State, Event>(
  decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>,
  events: readonly Event[],
): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}
