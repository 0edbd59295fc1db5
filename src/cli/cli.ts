import { Command, CommanderError } from 'commander';
import { describeFailure, EXIT } from './cli-errors.js';
import {
  addHistoryCommands,
  addMaintenanceCommand,
  addRebuildCommand,
  addSearchCommand,
  addServiceCommands,
} from './commands.js';
import { addBackupCommands } from './backup-commands.js';
import { addImportCommands } from './import/import-commands.js';
import { CliOutput } from './output.js';
import { packageVersion } from './version.js';

export { EXIT } from './cli-errors.js';
export type { SearchOptions } from './commands.js';

export function buildProgram(out: CliOutput = new CliOutput(false)): Command {
  const program = new Command('docsvc')
    .description('Event-sourced document service for retrieval-augmented generation')
    .version(packageVersion(), '-V, --version', 'print the version of docsvc')
    .showHelpAfterError()
    .exitOverride();
  // `serve` logs on stdout like any service; every other command keeps stdout for its result.
  program.hook('preAction', (_program, command) => {
    if (command.name() !== 'serve') out.reserveStdout();
  });
  addServiceCommands(program, out);
  addSearchCommand(program, out);
  addHistoryCommands(program, out);
  addRebuildCommand(program, out);
  addMaintenanceCommand(program, out);
  addImportCommands(program, out);
  addBackupCommands(program, out);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const out = new CliOutput(argv.includes('--json'));
  try {
    await buildProgram(out).parseAsync(argv);
    return out.exitCode ?? EXIT.ok;
  } catch (error) {
    // Commander has already printed its usage message, and --help or --version their text.
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok;
      if (out.json) out.failure(describeFailure(error), { quiet: true });
      return EXIT.usage;
    }
    const failure = describeFailure(error);
    out.failure(failure);
    return failure.exitCode;
  } finally {
    out.restore();
  }
}
