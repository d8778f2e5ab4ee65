import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { EXIT } from '../../protocol/errors';
import { addAuditCommands } from './commands/audit';
import { addExportCommands } from './commands/export';
import { cancelCommand } from './commands/cancel';
import { ciInitCommand, type CiInitOptions } from './commands/ci';
import { checkCommand, type CheckOptions } from './commands/check';
import { driftCommand, type DriftCliOptions } from './commands/drift';
import { addDeployCommands } from './commands/deploy';
import { daemonRunCommand, daemonStartCommand, daemonStatusCommand, daemonStopCommand } from './commands/daemon';
import { gateCommand, type GateOptions } from './commands/gate';
import { logsCommand } from './commands/logs';
import { feedbackCommand, type FeedbackCliOptions } from './commands/feedback';
import { monitorCommand, type MonitorCliOptions } from './commands/monitor';
import { addModelsCommands } from './commands/models';
import { runPipelineCommand, type RunOptions } from './commands/run';
import { runsCommand, type RunsOptions } from './commands/runs';
import { showCommand } from './commands/show';
import { statusCommand } from './commands/status';
import { sweepCommand, type SweepOptions } from './commands/sweep';
import { addTokensCommands } from './commands/tokens';
import { validateCommand } from './commands/validate';
import { runCommand, stdio, type Output } from './output';

/** Builds the `mlops` program; each action resolves to an exit code. */
export function buildProgram(io: Output, cwd: string, setExit: (code: number) => void): Command {
  const program = new Command('mlops')
    .description('MLOps Workbench: validate, run, track, register, deploy and monitor ML pipelines from mlops.yaml')
    .version('0.1.0')
    // Program options (--version) only before the command: `mlops gate X --version 3` is the gate's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('validate')
    .description('check mlops.yaml (syntax, schema, references, the step graph); exit 1 on errors')
    .argument('[file]', 'manifest to check (default: mlops.yaml here or above)')
    .option('--json', 'print a machine-readable list of problems')
    .option('--junit <file>', 'also write a JUnit XML report (a failing test case per error)')
    .action(async (file: string | undefined, opts: { json?: boolean; junit?: string }) => setExit(await runCommand(io, () => validateCommand(io, cwd, file, opts))));

  program
    .command('run')
    .description('run the pipeline (or STEPs and what they need) through the daemon, skipping unchanged steps; exit 1 if the run fails')
    .argument('[steps...]', 'steps to run, with everything upstream of them (default: all)')
    .option('-p, --param <key=value>', 'override a param of the manifest (repeatable)', collect)
    .option('-f, --force', 'run every selected step even when its cached result is valid')
    .option('-n, --dry-run', 'print the plan (run / skip (cached) / restore (from cache) and why) without running')
    .option('-e, --experiment <name>', "experiment to record the run in (default: the manifest's project)")
    .option('--no-follow', 'start the run and return at once instead of streaming its logs')
    .option('--json', 'print the plan, or the finished run, as JSON')
    .action(async (steps: string[], opts: RunOptions) => setExit(await runCommand(io, () => runPipelineCommand(io, cwd, steps, opts))));

  program
    .command('check')
    .description("run the datasets' expectations (datasets.NAME.expect) in-process; exit 1 if one fails")
    .argument('[datasets...]', 'datasets to check (default: every dataset with expectations)')
    .option('--json', 'print the report as JSON')
    .option('--junit <file>', 'also write a JUnit XML report (one test case per expectation)')
    .action(async (datasets: string[], opts: CheckOptions) => setExit(await runCommand(io, () => checkCommand(io, cwd, datasets, opts))));

  program
    .command('drift')
    .description('compare a current data file with a reference, column by column (tests picked as Evidently does), or a DEPLOYMENT\'s logged requests with its monitor reference; exit 1 on data-set drift')
    .argument('[deployment]', "a deployment with a monitor block: its logged requests against monitor.reference")
    .option('--reference <file>', 'reference data (CSV, TSV, JSON, JSON Lines or Parquet)')
    .option('--current <file>', 'current data to compare with it')
    .option('--last <n>', 'DEPLOYMENT: the last N requests (default: monitor.drift.window or 1000)')
    .option('--since <duration>', 'DEPLOYMENT: the requests of the last 30s, 10m, 2h, 1d')
    .option('--columns <list>', 'only these columns (comma-separated, repeatable)', collect)
    .option('--stattest <test>', 'test for every column, or COLUMN=TEST (ks, chisquare, z, wasserstein, jensenshannon, psi; repeatable)', collect)
    .option('--threshold <x>', 'threshold for every column, or COLUMN=X (repeatable)', collect)
    .option('--categorical <list>', 'treat these numeric columns as categories (comma-separated)', collect)
    .option('--drift-share <x>', 'data-set drift when at least this share of columns drift (default 0.5)')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'also write a standalone HTML report')
    .option('--junit <file>', 'also write a JUnit XML report (a test case per column; failures when the data set drifts)')
    .action(async (deployment: string | undefined, opts: DriftCliOptions) => setExit(await runCommand(io, () => driftCommand(io, cwd, opts, deployment))));

  program
    .command('gate')
    .description("evaluate a model's gates for pointing NAME@ALIAS at a version, or at a run not registered yet, without moving anything; exit 1 if one fails")
    .argument('<name@alias>', 'e.g. penguins-classifier@production')
    .option('--version <v>', 'the registered version to judge (default: the newest)')
    .option('--run <run>', 'judge this run instead (id or unique prefix): its metrics, as registering it would record them')
    .option('--json', 'print the gate report as JSON')
    .option('--junit <file>', 'also write a JUnit XML report (a test case per gate condition)')
    .action(async (target: string, opts: GateOptions) => setExit(await runCommand(io, () => gateCommand(io, cwd, target, opts))));

  program
    .command('ci')
    .description('continuous integration')
    .command('init')
    .description('write a GitHub Actions workflow: validate, check, run, gates (JUnit reports); register and promote on the main branch with a ci token')
    .option('-o, --output <file>', 'where to write it (default: .github/workflows/mlops.yml at the repository root)')
    .option('-f, --force', 'overwrite an existing file')
    .option('--install <command>', 'shell command that puts mlops on PATH (default: detected from package.json)')
    .option('--branch <name>', 'the branch whose pushes register and promote (default: main)')
    .option('--json', 'print what was written as JSON')
    .action(async (opts: CiInitOptions) => setExit(await runCommand(io, () => ciInitCommand(io, cwd, opts))));

  program
    .command('monitor')
    .description("a deployment's performance per version, accuracy/F1 or MAE/RMSE from feedback against registration, the A/B verdict and its alerts")
    .argument('<deployment>', 'the deployment, as named under deployments:')
    .option('--last <n>', 'only the newest N requests (and their feedback)')
    .option('--since <duration>', 'only requests of the last 30s, 10m, 2h, 1d (and their feedback)')
    .option('--json', 'print it as JSON')
    .action(async (name: string, opts: MonitorCliOptions) => setExit(await runCommand(io, () => monitorCommand(io, cwd, name, opts))));

  program
    .command('feedback')
    .description('send true labels for logged predictions to a deployment (ids: REQUEST_ID, or REQUEST_ID:ROW for a row of a multi-row request)')
    .argument('<deployment>', 'the deployment, as named under deployments:')
    .requiredOption('--file <csv>', 'CSV with an id and a label column')
    .option('--id-column <name>', 'column of the ids (default id)')
    .option('--label-column <name>', 'column of the labels (default label)')
    .option('--batch <n>', 'labels per request (default 500)')
    .option('--skip-unknown', 'send the labels whose id names a logged prediction, skip the others (default: refuse the file)')
    .option('--json', 'print the counts as JSON')
    .action(async (name: string, opts: FeedbackCliOptions) => setExit(await runCommand(io, () => feedbackCommand(io, cwd, name, opts))));

  program
    .command('sweep')
    .description("run (or resume) a hyperparameter sweep of mlops.yaml's `sweeps:` through the daemon; prints each trial, then the best one; exit 1 if it fails or is stopped")
    .argument('<name>', 'the sweep, as named under sweeps:')
    .option('--trials <n>', "trials to finish (default: the sweep's trials:); more than the last run had continues it")
    .option('--parallel <k>', "trials running at once (default: the sweep's parallel:)")
    .option('--new', 'start a new sweep run instead of continuing the latest one')
    .option('-e, --experiment <name>', "experiment to record the sweep in (default: the manifest's project)")
    .option('--no-follow', 'start the sweep and return at once')
    .option('--json', 'print the sweep status (trials, prunes, best, importance) as JSON')
    .action(async (name: string, opts: SweepOptions) => setExit(await runCommand(io, () => sweepCommand(io, cwd, name, opts))));

  program
    .command('status')
    .description('show the daemon, the active run and the last run of this workspace')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => setExit(await runCommand(io, () => statusCommand(io, cwd, opts))));

  program
    .command('runs')
    .description('list runs, newest first')
    .option('--limit <n>', 'how many (1-1000, default 20)')
    .option('--experiment <name>', 'only runs of this experiment')
    .option('--all', 'include step runs, not only pipeline runs')
    .option('--json', 'print {runs, total} as JSON')
    .action(async (opts: RunsOptions) => setExit(await runCommand(io, () => runsCommand(io, cwd, opts))));

  program
    .command('show')
    .description('show one run: params, metrics, steps, artifacts, git')
    .argument('<run>', 'run id or a unique prefix of it')
    .option('--json', 'print the run as JSON')
    .action(async (run: string, opts: { json?: boolean }) => setExit(await runCommand(io, () => showCommand(io, cwd, run, opts))));

  program
    .command('logs')
    .description("print a run's step logs")
    .argument('<run>', 'run id or a unique prefix of it (a step run id selects its step)')
    .argument('[step]', 'only this step')
    .option('-f, --follow', 'keep printing until the run (or the step) ends')
    .action(async (run: string, step: string | undefined, opts: { follow?: boolean }) => setExit(await runCommand(io, () => logsCommand(io, cwd, run, step, opts))));

  program
    .command('cancel')
    .description("cancel an active run (kills its steps' process groups); exit 1 if it is not active")
    .argument('<run>', 'run id or a unique prefix of it')
    .option('--json', 'print the outcome as JSON')
    .action(async (run: string, opts: { json?: boolean }) => setExit(await runCommand(io, () => cancelCommand(io, cwd, run, opts))));

  addModelsCommands(program, io, cwd, setExit);
  addTokensCommands(program, io, cwd, setExit);
  addAuditCommands(program, io, cwd, setExit);
  addExportCommands(program, io, cwd, setExit);
  addDeployCommands(program, io, cwd, setExit);

  const daemon = program.command('daemon').description("manage this workspace's orchestrator daemon");
  daemon
    .command('start')
    .description('start the daemon unless it is running')
    .option('--json', 'print its info as JSON')
    .action(async (opts: { json?: boolean }) => setExit(await runCommand(io, () => daemonStartCommand(io, cwd, opts))));
  daemon
    .command('stop')
    .description('stop the daemon (an active run is cancelled)')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: { json?: boolean }) => setExit(await runCommand(io, () => daemonStopCommand(io, cwd, opts))));
  daemon
    .command('status')
    .description('show whether the daemon runs; exit 3 when it does not')
    .option('--json', 'print its info as JSON')
    .action(async (opts: { json?: boolean }) => setExit(await runCommand(io, () => daemonStatusCommand(io, cwd, opts))));
  daemon
    .command('run', { hidden: true })
    .description('be the daemon (started by `mlops daemon start`, `mlops run` or the extension)')
    .argument('<workspace>', 'the workspace folder')
    .option('--port <port>', 'TCP port on 127.0.0.1 (default: a free one)')
    .action(async (workspace: string, opts: { port?: string }) => setExit(await runCommand(io, () => daemonRunCommand(path.resolve(cwd, workspace), opts))));

  return program;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
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
