/**
 * `mlops ci init [--output FILE] [--force]`: writes a GitHub Actions workflow for this
 * workspace's mlops.yaml (see orchestrator/ci). By default it goes to the repository root's
 * `.github/workflows/mlops.yml` (GitHub reads workflows only there) and runs in the manifest's
 * folder. An existing file is kept unless --force: it may hold the team's edits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT, MlopsError } from '../../../protocol/errors';
import { ciPlan, workflowYaml, type PlanOptions } from '../../ci';
import { loadManifest } from '../../pipelines/load';
import type { Output } from '../output';
import { workspaceOf } from '../workspace-access';

export interface CiInitOptions {
  output?: string;
  force?: boolean;
  install?: string;
  branch?: string;
  json?: boolean;
}

export function ciInitCommand(io: Output, cwd: string, opts: CiInitOptions): number {
  const ws = workspaceOf(cwd);
  const loaded = loadManifest(ws);
  const branch = opts.branch ?? 'main';
  // The branch ends up inside a workflow expression string; keep it to git's plain names.
  if (!/^[\w][\w./-]*$/.test(branch)) throw new MlopsError('BAD_REQUEST', `--branch ${branch}: use a plain branch name (letters, digits, . _ / -)`);
  const root = repositoryRoot(ws);
  const file = opts.output ? path.resolve(cwd, opts.output) : path.join(root, '.github', 'workflows', 'mlops.yml');
  const relative = path.relative(cwd, file);
  const shown = relative && !relative.startsWith('..') ? relative : file;
  if (fs.existsSync(file) && !opts.force) throw new MlopsError('BAD_REQUEST', `${shown} already exists; pass --force to overwrite it`);
  const plan = ciPlan(loaded.manifest, {
    workingDirectory: path.relative(root, ws).split(path.sep).join('/') || '.',
    rootPackage: readPackage(path.join(root, 'package.json')),
    hasLockfile: fs.existsSync(path.join(root, 'package-lock.json')),
    branch,
    ...(opts.install ? { install: opts.install } : {}),
  });
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, workflowYaml(plan));
  } catch (e) {
    throw new MlopsError('BAD_REQUEST', `cannot write ${shown}: ${(e as Error).message}`);
  }
  const protectedAliases = plan.models.flatMap((m) => m.request.map((a) => `${m.name}@${a}${m.ciMoves.includes(a) ? ' (CI moves it once approved: run the workflow with the version)' : ''}`));
  if (opts.json) io.json({ file, workingDirectory: plan.workingDirectory, install: plan.install, checkData: plan.checkData, models: plan.models, secrets: ['MLOPS_CI_TOKEN'] });
  else {
    io.out(`wrote ${shown} (runs in ${plan.workingDirectory}; installs the CLI with: ${plan.install.join(' && ')})`);
    io.out(`every push and pull request: mlops validate${plan.checkData ? ', mlops check' : ''}, mlops run, ${plan.models.flatMap((m) => m.gated.map((a) => `mlops gate ${m.name}@${a}`)).join(', ') || 'no gates (no models in mlops.yaml)'}; JUnit reports in ${plan.reportsDir}/`);
    if (plan.models.length) io.out(`pushes to ${plan.branch}: register ${plan.models.map((m) => m.name).join(', ')}, move ${plan.models.flatMap((m) => m.set.map((a) => `@${a}`)).join(', ')}${protectedAliases.length ? `, request ${protectedAliases.join(', ')}` : ''}`);
    io.out('add the repository secret MLOPS_CI_TOKEN: a token with the ci role (mlops tokens create github-actions --role ci)');
  }
  return EXIT.OK;
}

/** The nearest folder at or above the workspace with a .git (a folder, or a file in a worktree). */
function repositoryRoot(ws: string): string {
  for (let dir = ws; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return ws;
  }
}

function readPackage(file: string): PlanOptions['rootPackage'] {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PlanOptions['rootPackage'];
  } catch {
    return undefined;
  }
}
