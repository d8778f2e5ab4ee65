import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { RELOAD_MARKER, type ReloadMarker } from './reload-marker';
import { activateExtension, note, waitFor, workspaceUri } from './util';

/**
 * Reloads the window while a run is going on (runs last: file name). Phase one starts a slow
 * run and reloads; phase two (after the extension host restarted, see index.ts) checks that
 * the same run finished and that the views found it again.
 */
describe('a window reload in the middle of a run', () => {
  const markerFile = RELOAD_MARKER();
  const marker: ReloadMarker | undefined = fs.existsSync(markerFile) ? JSON.parse(fs.readFileSync(markerFile, 'utf8')) : undefined;

  if (!marker) {
    it('starts a slow run and reloads the window (phase 1)', async () => {
      const api = await activateExtension();
      const manifest = workspaceUri('mlops.yaml');
      const text = fs.readFileSync(manifest.fsPath, 'utf8');
      // A step slow enough to be caught mid-run by the reload.
      fs.writeFileSync(manifest.fsPath, text.replace(/\nmodels:/, '\n  slow:\n    needs: [evaluate]\n    cmd: sleep 6 && echo slow done\n\nmodels:'));
      await api.orchestrator!.start();
      const started = new Promise<void>((resolve) => {
        const sub = api.orchestrator!.onEvent((e) => {
          if (e.type === 'step-started' && e.step === 'slow') {
            sub.dispose();
            resolve();
          }
        });
      });
      const { runId } = await api.orchestrator!.run({ steps: ['slow'] });
      await started;
      const stats = (globalThis as { __mlopsStats?: { passes: number; failures: number } }).__mlopsStats ?? { passes: 0, failures: 0 };
      fs.writeFileSync(markerFile, JSON.stringify({ runId, passes: stats.passes, failures: stats.failures } satisfies ReloadMarker));
      note(`run ${runId} is in step "slow"; reloading the window (the extension host stops here, so mocha may print this test as interrupted: phase 2 below decides)`);
      await vscode.commands.executeCommand('workbench.action.reloadWindow');
      await new Promise(() => undefined); // the extension host ends here
    });
    return;
  }

  it('finishes the same run and the views pick it up again (phase 2)', async () => {
    const api = await activateExtension();
    try {
      await waitFor('reattached to the daemon', () => (api.orchestrator!.connected ? true : undefined), 20_000);
      const run = await waitFor('the run to finish', async () => {
        const r = await api.orchestrator!.getRun(marker.runId);
        return r.status === 'running' || r.status === 'queued' ? undefined : r;
      }, 30_000);
      assert.strictEqual(run.status, 'succeeded', run.message);
      assert.deepStrictEqual(run.children.filter((c) => c.name === 'slow').map((c) => c.status), ['succeeded']);
      note(`run ${marker.runId} survived the reload: ${run.status} after ${run.durationMs} ms`);
      const exps = await api.experiments!.getChildren();
      const penguins = exps.find((e) => e.kind === 'experiment' && e.name === 'penguins');
      const runs = await api.experiments!.getChildren(penguins);
      const node = runs.find((r) => r.kind === 'run' && r.run.id === marker.runId);
      assert.ok(node && node.kind === 'run' && node.run.status === 'succeeded', 'the Experiments tree shows the finished run');
      const steps = await api.pipeline!.getChildren();
      assert.strictEqual(steps.find((s) => s.step === 'slow')?.last?.status, 'succeeded', 'the Pipeline tree shows the step result');
    } finally {
      fs.rmSync(markerFile, { force: true });
      await api.orchestrator?.stop();
    }
  });
});
