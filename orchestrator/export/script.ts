/**
 * The shell text a step runs in its container. The command is joined the way the local runner
 * joins a list (`{ a\n} && { b\n}`, so a `cd` in one item holds for the next), and params reach
 * it as `"$MLOPS_PARAM_X"`: one argument whatever the value, as local shell-quoting gives.
 */
import { paramEnvName } from '../pipelines/params';
import { shellQuote } from '../pipelines/step-spec';
import { shellText, WORKDIR, type ExportStep, type Piece } from './model';

/** The step's command as `/bin/sh -c` text. */
export function commandText(step: ExportStep): string {
  const items = step.script.map(shellText);
  return items.length === 1 ? items[0]! : items.map((c) => `{ ${c}\n}`).join(' && ');
}

/** Absolute container path of a path relative to the manifest folder. */
export function containerPath(rel: string): string {
  return rel ? `${WORKDIR}/${rel}` : WORKDIR;
}

/** Whether a value needs the shell (a param or the run id inside). */
export function hasRefs(pieces: Piece[]): boolean {
  return pieces.some((p) => !('text' in p));
}

/**
 * A KFP executor script. KFP substitutes placeholders only in command/args and hands artifacts
 * over at paths of its own, so: positional args → env, input artifacts copied to where the
 * command expects them, the command run in its wdir, outputs copied to KFP's paths.
 * `$1…` are, in order: the params (`paramOrder`), the run id, each input's path, each output's path.
 */
export function kfpScript(step: ExportStep, paramOrder: string[]): string {
  const lines = ['set -e', `cd ${WORKDIR}`];
  let n = 1;
  const exports = paramOrder.map((p) => `${paramEnvName(p)}="$${argRef(n++)}"`);
  exports.push(`MLOPS_RUN_ID="$${argRef(n++)}"`, `MLOPS_STEP=${shellQuote(step.name)}`);
  lines.push(`export ${exports.join(' ')}`);
  for (const [k, v] of Object.entries(step.env)) lines.push(`export ${k}=${hasRefs(v) ? `"${v.map((p) => ('text' in p ? p.text.replace(/(["\\$`])/g, '\\$1') : 'param' in p ? `$${paramEnvName(p.param)}` : '$MLOPS_RUN_ID')).join('')}"` : shellQuote(v.map((p) => ('text' in p ? p.text : '')).join(''))}`);
  for (const a of step.inputs) {
    const to = shellQuote(a.path);
    lines.push(`rm -rf ${to} && mkdir -p "$(dirname ${to})" && cp -R "$${argRef(n++)}" ${to}`);
  }
  const run = commandText(step);
  lines.push(step.wdir ? `( cd ${shellQuote(step.wdir)} && ${run}\n)` : run);
  for (const o of step.outputs) {
    lines.push(`mkdir -p "$(dirname "$${argRef(n)}")" && cp -R ${shellQuote(o.path)} "$${argRef(n++)}"`);
  }
  return lines.join('\n');
}

/** `$10` is `$1` followed by 0 in sh: positional args past 9 need braces. */
function argRef(n: number): string {
  return n > 9 ? `{${n}}` : String(n);
}
