/**
 * `mlops sweep` end to end on the weather sample: the CLI in this process, the daemon as a
 * real detached process (TypeScript sources under tsx), real training. Trials are child runs
 * listed by `mlops runs --all --json` with their parent's id; a stopped sweep resumes.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SweepStartResult, SweepStatus } from '../../protocol/sweep';
import type { RunSummary } from '../../protocol/types';
import { runCli, stopWorkspaceDaemon, type CliResult } from './cli-harness';

const SAMPLE = path.resolve(__dirname, '../../examples/weather');
let ws: string;

before(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-sweep-cli-'));
  fs.cpSync(SAMPLE, ws, { recursive: true, filter: (src) => !/[/\\](\.mlops|models|metrics|prepared)$/.test(src) });
  // Fewer epochs: the same sweep, in seconds.
  const manifest = path.join(ws, 'mlops.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace(/^ {2}epochs: 30 /m, '  epochs: 12 '));
});
after(async () => {
  await stopWorkspaceDaemon(ws);
  fs.rmSync(ws, { recursive: true, force: true });
});

const cli = (...args: string[]): Promise<CliResult> => runCli(args, ws);

describe('mlops sweep', () => {
  let sweepId: string;

  it('runs the trials through the daemon, one line each, and prints the best trial and its params', async () => {
    assert.match(fs.readFileSync(path.join(ws, 'mlops.yaml'), 'utf8'), /^ {2}epochs: 12 /m);
    const r = await cli('sweep', 'tune', '--trials', '6');
    const text = [...r.out, ...r.err].join('\n');
    assert.equal(r.code, 0, text);
    sweepId = /^sweep tune: run ([0-9a-f]{32}) started \(0 of 6 trials finished\)$/m.exec(text)?.[1]!;
    assert.ok(sweepId, text);
    assert.equal(r.out.filter((l) => /^trial-\d+ (complete|pruned|failed)/.test(l)).length, 6, text);
    assert.match(text, /^sweep tune \(run [0-9a-f]{8}\) succeeded: \d+ complete, \d+ pruned, \d+ failed of 6 \(tpe, median/m);
    assert.match(text, /^TRIAL\s+RUN\s+STATE\s+VAL_LOGLOSS\s+STEPS\s+lr\s+l2\s+hidden$/m);
    const best = /^best: trial-(\d+) \(run ([0-9a-f]{32})\) val_logloss=([\d.]+) \(minimize\)$/m.exec(text);
    assert.ok(best, text);
    assert.match(text, /^ {2}params: lr=[\d.e-]+ l2=[\d.e-]+ hidden=(0|4|16|32)$/m);
    assert.match(text, /^importance \(η²\): /m);
    // The best trial is tagged, and is the lowest complete one.
    const json = await cli('sweep', 'tune', '--trials', '6', '--json');
    assert.equal(json.code, 0);
    const { status, started } = json.json[0] as SweepStartResult & { status: SweepStatus };
    assert.equal(started, false, 'nothing left to do');
    const complete = status.trials.filter((t) => t.state === 'complete');
    assert.equal(status.best?.runId, best[2]);
    assert.equal(status.best?.value, Math.min(...complete.map((t) => t.value!)));
    assert.equal(status.trials.find((t) => t.best)?.number, Number(best[1]));
  });

  it('`mlops runs --all --json` lists the trials as child runs of the sweep, with their params', async () => {
    const r = await cli('runs', '--all', '--json', '--limit', '1000');
    assert.equal(r.code, 0);
    const { runs } = r.json[0] as { runs: RunSummary[] };
    const sweep = runs.find((x) => x.id === sweepId)!;
    assert.equal(sweep.kind, 'sweep');
    assert.equal(sweep.parentId, undefined);
    const trials = runs.filter((x) => x.kind === 'trial');
    assert.equal(trials.length, 6);
    for (const t of trials) {
      assert.equal(t.parentId, sweepId);
      assert.ok(['lr', 'l2', 'hidden', 'epochs', 'batch', 'seed'].every((k) => k in t.params), JSON.stringify(t.params));
    }
    // Top-level listing: the sweep, not its trials.
    const top = (await cli('runs', '--json')).json[0] as { runs: RunSummary[] };
    assert.ok(top.runs.some((x) => x.id === sweepId) && !top.runs.some((x) => x.kind === 'trial'));
  });

  it('a stopped sweep resumes from its recorded trials', async () => {
    const start = await cli('sweep', 'tune', '--trials', '12', '--no-follow', '--json');
    assert.equal(start.code, 0, start.err.join('\n'));
    const res = start.json[0] as SweepStartResult;
    assert.deepEqual([res.runId, res.resumed, res.finished, res.budget], [sweepId, true, 6, 12]);
    // Stop it while trials run (after at least one more has finished).
    for (let i = 0; ; i++) {
      const runs = ((await cli('runs', '--all', '--json', '--limit', '1000')).json[0] as { runs: RunSummary[] }).runs;
      if (runs.filter((x) => x.kind === 'trial' && x.tags['mlops.trial.state']).length >= 7) break;
      assert.ok(i < 400, 'a trial finishes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancel = await cli('cancel', sweepId);
    assert.equal(cancel.code, 0, [...cancel.out, ...cancel.err].join('\n'));
    assert.match(cancel.out.join('\n'), /cancelled/);
    const again = await cli('sweep', 'tune', '--trials', '12');
    const text = [...again.out, ...again.err].join('\n');
    assert.equal(again.code, 0, text);
    assert.match(text, new RegExp(`resuming run ${sweepId.slice(0, 8)} at ([7-9]|1[01]) of 12 finished trials`));
    assert.match(text, /succeeded: \d+ complete, \d+ pruned, \d+ failed of 12/);
    const status = ((await cli('sweep', 'tune', '--trials', '12', '--json')).json[0] as { status: SweepStatus }).status;
    assert.equal(status.trials.filter((t) => t.state !== 'discarded' && t.state !== 'running').length, 12);
    assert.ok(status.counts.discarded >= 1, 'the trials running at the stop were discarded, and re-sampled');
  });

  it('an unknown sweep is a usage error with a did-you-mean', async () => {
    const r = await cli('sweep', 'tun');
    assert.equal(r.code, 2);
    assert.match(r.err.join('\n'), /no sweep "tun" in mlops.yaml; did you mean "tune"\?/);
  });
});
