/**
 * What a generated CI workflow does for one manifest: where it runs, how it gets the CLI, whether
 * there are data expectations to check, and per model which aliases CI sets directly (after the
 * gates) and which it asks people to approve. Decided here from mlops.yaml and the repository's
 * package.json, rendered by github-workflow.ts.
 */
import type { Manifest } from '../../protocol/manifest';

export interface ModelPlan {
  name: string;
  /** Aliases CI points at the new version on the main branch (gates permitting). */
  set: string[];
  /** Protected aliases (approvals): CI requests them on the main branch. */
  request: string[];
  /** Protected aliases that are also ci_only_aliases: the last approval leaves them, the promote job moves them. */
  ciMoves: string[];
  /** Every alias whose gates the pipeline job checks, for the JUnit report. */
  gated: string[];
}

export interface CiPlan {
  /** Folder of mlops.yaml relative to the repository root, `.` for the root itself. */
  workingDirectory: string;
  /** Shell lines that put `mlops` on PATH. */
  install: string[];
  /** Whether the repository root has a package-lock.json (setup-node's npm cache needs one). */
  npmCache: boolean;
  nodeVersion: string;
  branch: string;
  /** Folder (under workingDirectory) the reports go to. */
  reportsDir: string;
  checkData: boolean;
  models: ModelPlan[];
}

export interface PlanOptions {
  workingDirectory: string;
  /** The repository root's package.json, when there is one. */
  rootPackage?: { bin?: unknown; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  hasLockfile: boolean;
  /** Replaces the detected install lines. */
  install?: string;
  branch?: string;
  stagingAlias?: string;
  nodeVersion?: string;
}

/** The npm package that ships the `mlops` CLI. */
export const CLI_PACKAGE = 'mlops-workbench';

export function ciPlan(manifest: Manifest, o: PlanOptions): CiPlan {
  const staging = o.stagingAlias ?? 'staging';
  const models = Object.entries(manifest.models ?? {}).map(([name, m]): ModelPlan => {
    const approvals = Object.entries(m.approvals ?? {}).filter(([, n]) => n > 0).map(([a]) => a);
    const set = [staging, ...(m.ci_only_aliases ?? [])].filter((a, i, all) => all.indexOf(a) === i && !approvals.includes(a));
    const ciOnly = m.ci_only_aliases ?? [];
    return { name, set, request: approvals, ciMoves: approvals.filter((a) => ciOnly.includes(a)), gated: [...set, ...approvals] };
  });
  const checkData = Object.values(manifest.datasets ?? {}).some((d) => (d.expect?.length ?? 0) > 0);
  return {
    workingDirectory: o.workingDirectory || '.',
    install: o.install ? [o.install] : installLines(o.rootPackage, o.hasLockfile),
    npmCache: o.hasLockfile,
    nodeVersion: o.nodeVersion ?? '20',
    branch: o.branch ?? 'main',
    reportsDir: 'mlops-reports',
    checkData,
    models,
  };
}

/**
 * How CI gets the CLI: the MLOps Workbench repository builds and links its own; a project that
 * depends on the package uses its node_modules/.bin; anything else installs it globally.
 */
function installLines(pkg: PlanOptions['rootPackage'], lockfile: boolean): string[] {
  const ci = lockfile ? 'npm ci' : 'npm install';
  if (pkg && typeof pkg.bin === 'object' && pkg.bin !== null && 'mlops' in pkg.bin) return [ci, 'npm run build', 'npm link'];
  if (pkg && (pkg.dependencies?.[CLI_PACKAGE] || pkg.devDependencies?.[CLI_PACKAGE])) return [ci, 'echo "$GITHUB_WORKSPACE/node_modules/.bin" >> "$GITHUB_PATH"'];
  return [`npm install --global ${CLI_PACKAGE}`];
}
