import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { EXIT, MlopsError } from '../../../protocol/errors';
import { exportManifest, validManifest, type ArgoKind, type ExportTarget, type ParityWarning } from '../../export';
import { LineIndex, type ParsedManifest } from '../../manifest';
import { findManifest } from '../../workspace';
import { runCommand, type Output } from '../output';

export interface ExportCliOptions {
  image?: string;
  output?: string;
  kind?: string;
  file?: string;
  strict?: boolean;
  json?: boolean;
}

/** A parity warning as `--json` prints it (line and column 1-based, on the step's key). */
export interface ExportJsonWarning extends ParityWarning {
  line: number;
  column: number;
}

const KINDS: readonly ArgoKind[] = ['Workflow', 'WorkflowTemplate'];

function located(warnings: ParityWarning[], parsed: ParsedManifest, text: string): ExportJsonWarning[] {
  const index = new LineIndex(text);
  return warnings.map((w) => {
    const p = index.positionAt(parsed.keySpan(w.path).start);
    return { ...w, line: p.line + 1, column: p.character + 1 };
  });
}

/**
 * `mlops export argo|kfp`: a pure command (no daemon). The YAML goes to stdout or `-o FILE`,
 * parity warnings to stderr. Exit 0; 1 with --strict when a parity warning (not an info) exists;
 * 2 for usage errors and an invalid manifest (its errors are printed).
 */
export function exportCommand(io: Output, cwd: string, target: ExportTarget, opts: ExportCliOptions): number {
  if (opts.kind !== undefined && target !== 'argo') throw new MlopsError('BAD_REQUEST', '--kind applies to `mlops export argo` only.');
  const kind = opts.kind === undefined ? undefined : KINDS.find((k) => k.toLowerCase() === opts.kind!.toLowerCase());
  if (opts.kind !== undefined && !kind) throw new MlopsError('BAD_REQUEST', `--kind must be Workflow or WorkflowTemplate, not "${opts.kind}".`);
  if (opts.image !== undefined && !opts.image.trim()) throw new MlopsError('BAD_REQUEST', '--image needs an image name, such as python:3.12-slim.');
  const file = findManifest(cwd, opts.file);
  const shown = path.relative(cwd, file) || file;
  const text = fs.readFileSync(file, 'utf8');
  const { manifest, parsed } = validManifest(text, shown);
  const result = exportManifest(manifest, target, { ...(opts.image ? { image: opts.image } : {}), ...(kind ? { kind } : {}), file: path.basename(file) });
  const warnings = located(result.warnings, parsed, text);
  if (opts.output) {
    const out = path.resolve(cwd, opts.output);
    try {
      fs.writeFileSync(out, result.yaml);
    } catch (e) {
      throw new MlopsError('BAD_REQUEST', `cannot write ${opts.output}: ${(e as Error).message}`);
    }
  }
  if (opts.json) io.json({ target, ...(opts.output ? { file: opts.output } : {}), yaml: result.yaml, warnings });
  else {
    if (!opts.output) io.out(result.yaml.trimEnd());
    for (const w of warnings) io.err(`${shown}:${w.line}:${w.column} ${w.severity} [${w.code}] ${w.message}`);
    const n = warnings.filter((w) => w.severity === 'warning').length;
    const summary = `${target === 'argo' ? (kind ?? 'Workflow') : 'KFP pipeline spec'} for ${manifest.project}: ${Object.keys(manifest.steps ?? {}).length} steps, ${n} parity warning${n === 1 ? '' : 's'}, ${warnings.length - n} note${warnings.length - n === 1 ? '' : 's'}`;
    io.err(opts.output ? `wrote ${opts.output}: ${summary}` : summary);
  }
  return opts.strict && warnings.some((w) => w.severity === 'warning') ? EXIT.CHECK_FAILED : EXIT.OK;
}

export function addExportCommands(program: Command, io: Output, cwd: string, setExit: (code: number) => void): void {
  const exp = program.command('export').description('compile mlops.yaml to a workflow engine (Argo Workflows, Kubeflow Pipelines) and say where it would behave differently from a local run');
  const common = (c: Command) =>
    c
      .option('--image <image>', 'container image for steps without `image` (default: export.image)')
      .option('-o, --output <file>', 'write the YAML to FILE instead of stdout')
      .option('-f, --file <manifest>', 'manifest to export (default: mlops.yaml here or above)')
      .option('--strict', 'exit 1 when there are parity warnings')
      .option('--json', 'print {target, yaml, warnings} as JSON');
  common(exp.command('argo').description('an Argo Workflows Workflow (or WorkflowTemplate with --kind)'))
    .option('--kind <kind>', 'Workflow (default) or WorkflowTemplate')
    .action(async (opts: ExportCliOptions) => setExit(await runCommand(io, () => exportCommand(io, cwd, 'argo', opts))));
  common(exp.command('kfp').description('a Kubeflow Pipelines v2 pipeline spec (IR YAML)')).action(async (opts: ExportCliOptions) =>
    setExit(await runCommand(io, () => exportCommand(io, cwd, 'kfp', opts))),
  );
}
