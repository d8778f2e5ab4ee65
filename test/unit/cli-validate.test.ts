import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from './cli-harness';

const ROOT = path.resolve(__dirname, '../..');

const cli = (args: string[], cwd = ROOT) => runCli(args, cwd);

function tempManifest(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-cli-'));
  fs.writeFileSync(path.join(dir, 'mlops.yaml'), text);
  return dir;
}

describe('mlops validate', () => {
  for (const example of fs.readdirSync(path.join(ROOT, 'examples'))) {
    const file = path.join('examples', example, 'mlops.yaml');
    if (!fs.existsSync(path.join(ROOT, file))) continue;
    it(`exits 0 on ${file}`, async () => {
      const r = await cli(['validate', file]);
      assert.equal(r.code, 0, r.out.join('\n'));
      assert.match(r.out.at(-1)!, /: valid \(0 warnings\)$/);
    });
  }

  it('lists every error as file:line:col severity message and exits 1', async () => {
    const dir = tempManifest('version: 1\nproject: x\nsteps:\n  a:\n    cmd: x\n    needs: [b]\n  b:\n    cmd: y\n    needs: [a]\n    outz: [o]\n');
    const r = await cli(['validate'], dir);
    assert.equal(r.code, 1);
    assert.deepEqual(r.out, [
      'mlops.yaml:6:13 error Cycle in the pipeline: a → b → a (here "a" needs "b"). Remove one of these edges.',
      'mlops.yaml:9:13 error Cycle in the pipeline: a → b → a (here "b" needs "a"). Remove one of these edges.',
      'mlops.yaml:10:5 error Unknown property "outz" in step "b"; did you mean "outs"? Allowed: description, cmd, wdir, needs, deps, outs, params, metrics, logs_metrics, env, retries, timeout, resources, image, cache.',
      'mlops.yaml: 3 errors, 0 warnings',
    ]);
  });

  it('prints a machine-readable list with --json', async () => {
    const dir = tempManifest('version: 2\nproject: x\nsteps: {}\n');
    const r = await cli(['validate', '--json'], dir);
    assert.equal(r.code, 1);
    const report = r.json[0] as { valid: boolean; errors: number; problems: { line: number; column: number; endColumn: number; severity: string; code: string; message: string }[] };
    assert.equal(report.valid, false);
    assert.equal(report.errors, 1);
    assert.deepEqual(
      report.problems.map((p) => [p.line, p.column, p.endColumn, p.severity, p.code]),
      [[1, 10, 11, 'error', 'schema']],
    );
    assert.match(report.problems[0].message, /"version" must be 1, not number 2/);
  });

  it('finds mlops.yaml in a parent folder', async () => {
    const dir = tempManifest('version: 1\nproject: x\nsteps: {}\n');
    fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    const r = await cli(['validate'], path.join(dir, 'sub', 'deeper'));
    assert.equal(r.code, 0);
  });

  it('exits 2 with a clear message when there is no manifest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-none-'));
    const r = await cli(['validate', 'nope.yaml'], dir);
    assert.equal(r.code, 2);
    assert.deepEqual(r.err, ['mlops: No such manifest: nope.yaml']);
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err.join('\n'), /unknown command 'frobnicate'/);
  });
});
