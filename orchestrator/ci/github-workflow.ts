/**
 * A GitHub Actions workflow for a CiPlan. Job `pipeline`, on every push and pull request:
 * validate mlops.yaml, check the data expectations, run the pipeline, judge the run by each
 * model's gates (`mlops gate --run`, nothing registered yet), and publish every report as JUnit.
 * On a push to the main branch it then registers the run's models with the CI token, moves the
 * unprotected aliases and requests the protected ones. Job `promote`, started by hand
 * (workflow_dispatch) once people have approved a request, moves the alias with the CI token:
 * "humans approve, CI moves". Values from events and inputs reach the shell only through `env`,
 * never spliced into a script, so an input cannot inject commands.
 */
import { Document } from 'yaml';
import type { CiPlan, ModelPlan } from './ci-plan';

type Step = Record<string, unknown>;

const ON_MAIN = (branch: string) => `github.event_name == 'push' && github.ref == 'refs/heads/${branch}'`;
const CI_TOKEN = '${{ secrets.MLOPS_CI_TOKEN }}';

/** A word for the shell: names from mlops.yaml are already restricted, but quoting costs nothing. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Step ids allow letters, digits, `_` and `-`, starting with a letter or `_`. */
function stepId(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function githubWorkflow(plan: CiPlan): Record<string, unknown> {
  const reports = plan.reportsDir;
  const inWorkdir = (p: string) => (plan.workingDirectory === '.' ? p : `${plan.workingDirectory}/${p}`);
  const setup: Step[] = [
    { name: 'Check out', uses: 'actions/checkout@v4' },
    { name: 'Set up Node.js', uses: 'actions/setup-node@v4', with: { 'node-version': plan.nodeVersion, ...(plan.npmCache ? { cache: 'npm' } : {}) } },
    { name: 'Install the mlops CLI', 'working-directory': '.', run: plan.install.join('\n') },
  ];

  const pipeline: Step[] = [
    ...setup,
    { name: 'Validate mlops.yaml', run: `mkdir -p ${reports}\nmlops validate --junit ${reports}/validate.xml` },
    ...(plan.checkData ? [{ name: 'Check data expectations', run: `mlops check --junit ${reports}/check.xml` }] : []),
    {
      name: 'Run the pipeline',
      id: 'run',
      run: [`mlops run`, `mlops runs --limit 1 --json > ${reports}/runs.json`, `echo "run-id=$(node -p 'require("./${reports}/runs.json").runs[0].id')" >> "$GITHUB_OUTPUT"`].join('\n'),
    },
    ...plan.models.flatMap((m) => m.gated.map((alias) => gateStep(m, alias, reports))),
    ...plan.models.flatMap((m) => promoteOnMain(m, plan, reports)),
    {
      name: 'Upload the reports',
      if: 'always()',
      uses: 'actions/upload-artifact@v4',
      with: { name: 'mlops-reports', path: inWorkdir(reports), 'if-no-files-found': 'ignore' },
    },
    {
      name: 'Publish the test report',
      if: 'always()',
      uses: 'mikepenz/action-junit-report@v5',
      with: { report_paths: inWorkdir(`${reports}/*.xml`), check_name: 'mlops (validate, check, gates)', require_tests: false },
    },
    { name: 'Stop the mlops daemon', if: 'always()', run: 'mlops daemon stop || true' },
  ];

  const protectedTargets = plan.models.flatMap((m) => m.ciMoves.map((a) => `${m.name}@${a}`));
  const jobs: Record<string, unknown> = {
    pipeline: {
      name: 'Validate, run, check, gate',
      ...(protectedTargets.length ? { if: "github.event_name != 'workflow_dispatch' || inputs.version == ''" } : {}),
      'runs-on': 'ubuntu-latest',
      'timeout-minutes': 60,
      steps: pipeline,
    },
  };
  if (protectedTargets.length) {
    jobs.promote = {
      name: 'Promote an approved version (CI moves protected aliases)',
      if: "github.event_name == 'workflow_dispatch' && inputs.version != ''",
      'runs-on': 'ubuntu-latest',
      'timeout-minutes': 15,
      steps: [
        ...setup,
        {
          name: 'Move the alias',
          env: { MLOPS_TOKEN: CI_TOKEN, TARGET: '${{ inputs.target }}', VERSION: '${{ inputs.version }}' },
          run: 'mlops models alias "$TARGET" "$VERSION"',
        },
      ],
    };
  }

  return {
    name: 'MLOps',
    on: {
      push: { branches: [plan.branch] },
      pull_request: {},
      workflow_dispatch: protectedTargets.length
        ? {
            inputs: {
              target: { description: 'The protected alias to move (its promotion request must be approved)', type: 'choice', options: protectedTargets, required: true },
              version: { description: 'The approved version (leave empty to run the pipeline instead)', type: 'string', required: false, default: '' },
            },
          }
        : {},
    },
    permissions: { contents: 'read', checks: 'write' },
    concurrency: { group: 'mlops-${{ github.ref }}', 'cancel-in-progress': "${{ github.event_name == 'pull_request' }}" },
    defaults: { run: { shell: 'bash', 'working-directory': plan.workingDirectory } },
    jobs,
  };
}

function gateStep(m: ModelPlan, alias: string, reports: string): Step {
  return {
    name: `Gates of ${m.name} for @${alias}`,
    // Every gate step reports, even after another failed: the JUnit report lists them all.
    if: "!cancelled() && steps.run.outcome == 'success'",
    env: { RUN_ID: '${{ steps.run.outputs.run-id }}' },
    run: `mlops gate ${shellQuote(`${m.name}@${alias}`)} --run "$RUN_ID" --junit ${reports}/${`gate-${m.name}-${alias}`.replace(/[^\w.-]/g, '_')}.xml`,
  };
}

/** On the main branch: register with the CI token, move the unprotected aliases, request the protected ones. */
function promoteOnMain(m: ModelPlan, plan: CiPlan, reports: string): Step[] {
  const id = stepId('register', m.name);
  const out = `${reports}/${`register-${m.name}`.replace(/[^\w.-]/g, '_')}.json`;
  const version = `\${{ steps.${id}.outputs.version }}`;
  const when = ON_MAIN(plan.branch);
  return [
    {
      name: `Register ${m.name}`,
      id,
      if: when,
      env: { MLOPS_TOKEN: CI_TOKEN, RUN_ID: '${{ steps.run.outputs.run-id }}' },
      run: [`mlops models register ${shellQuote(m.name)} --run "$RUN_ID" --tag git.sha="$GITHUB_SHA" --json > ${out}`, `echo "version=$(node -p 'require("./${out}").version')" >> "$GITHUB_OUTPUT"`].join('\n'),
    },
    ...m.set.map((alias) => ({
      name: `Move ${m.name}@${alias}`,
      if: when,
      env: { MLOPS_TOKEN: CI_TOKEN, VERSION: version },
      run: `mlops models alias ${shellQuote(`${m.name}@${alias}`)} "$VERSION"`,
    })),
    ...m.request.map((alias) => ({
      name: `Request ${m.name}@${alias} (people approve${m.ciMoves.includes(alias) ? ', then run this workflow with the version to move it' : '; the last approval moves it'})`,
      if: when,
      env: { MLOPS_TOKEN: CI_TOKEN, VERSION: version },
      run: `mlops models request ${shellQuote(`${m.name}@${alias}`)} "$VERSION" -m "CI run $GITHUB_RUN_ID of $GITHUB_REPOSITORY at $GITHUB_SHA"`,
    })),
  ];
}

/** The workflow as YAML with a header saying where it came from and what it needs. */
export function workflowYaml(plan: CiPlan): string {
  // No YAML anchors for the setup steps both jobs share: spelled out, the file reads top to bottom.
  const doc = new Document(githubWorkflow(plan), { aliasDuplicateObjects: false });
  doc.commentBefore = [
    ' Generated by `mlops ci init` (MLOps Workbench). Edit freely; `mlops ci init --force` rewrites it.',
    ' Pull requests: validate, check data, run the pipeline, judge the run by the gates (JUnit reports).',
    ` Pushes to ${plan.branch}: also register the models and move or request their aliases as the CI token.`,
    ' Needs the repository secret MLOPS_CI_TOKEN: a token with the ci role from the team registry,',
    '   created by an admin with: mlops tokens create github-actions --role ci',
    ...(plan.models.some((m) => m.ciMoves.length)
      ? [' CI-only aliases (ci_only_aliases): people approve the request (mlops models approve NAME@ALIAS VERSION),',
        '   then run this workflow by hand (Actions → MLOps → Run workflow) with the version; CI moves the alias.']
      : plan.models.some((m) => m.request.length)
        ? [' Protected aliases move with their last approval; list them in ci_only_aliases to have CI move them.']
        : []),
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
