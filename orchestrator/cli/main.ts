import { Command, CommanderError } from 'commander';
import { EXIT } from '../../protocol/errors';
import { validateCommand } from './commands/validate';
import { runCommand, stdio, type Output } from './output';

/** Builds the `mlops` program; each action resolves to an exit code. */
export function buildProgram(io: Output, cwd: string, setExit: (code: number) => void): Command {
  const program = new Command('mlops')
    .description('MLOps Workbench: validate, run, track, register, deploy and monitor ML pipelines from mlops.yaml')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('validate')
    .description('check mlops.yaml (syntax, schema, references, the step graph); exit 1 on errors')
    .argument('[file]', 'manifest to check (default: mlops.yaml here or above)')
    .option('--json', 'print a machine-readable list of problems')
    .action(async (file: string | undefined, opts: { json?: boolean }) => setExit(await runCommand(io, () => validateCommand(io, cwd, file, opts))));

  return program;
}

export async function main(argv: string[], io: Output = stdio, cwd = process.cwd()): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, cwd, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    throw e;
  }
  return code;
}

// Run when executed as the bundled CLI, not when imported by tests.
if (typeof require !== 'undefined' && require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
