import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { DriftReportPanel } from '../../client/src/drift';
import type { CheckReport, DriftRenderedState } from '../../protocol/data';
import { activateExtension, note, screenshot, waitFor, workspaceUri } from './util';

/** Data validation and drift as a user sees them: a drift report webview, expectations in Problems. */
describe('data checks and drift in the IDE (real VS Code)', function () {
  this.timeout(120_000);
  const dataFile = () => workspaceUri('data', 'penguins.csv').fsPath;
  let original = '';
  let panel: DriftReportPanel | undefined;

  before(async () => {
    await activateExtension();
    original = fs.readFileSync(dataFile(), 'utf8');
    // Two real subsets of the sample's data: the penguins of Biscoe and of Dream.
    const [head, ...rows] = original.trimEnd().split('\n');
    fs.mkdirSync(workspaceUri('drift-check').fsPath, { recursive: true });
    for (const island of ['Biscoe', 'Dream']) fs.writeFileSync(workspaceUri('drift-check', `${island}.csv`).fsPath, [head, ...rows.filter((r) => r.split(',')[1] === island)].join('\n'));
  });

  after(async () => {
    fs.writeFileSync(dataFile(), original);
    panel?.panel.dispose();
    fs.rmSync(workspaceUri('drift-check').fsPath, { recursive: true, force: true });
    await vscode.commands.executeCommand('mlops.checkData');
  });

  it('MLOps: Show Drift Report opens the report: tests per column, sortable table, a chart per column', async () => {
    panel = await vscode.commands.executeCommand<DriftReportPanel>('mlops.showDriftReport', workspaceUri('drift-check', 'Biscoe.csv'), workspaceUri('drift-check', 'Dream.csv'));
    assert.ok(panel, 'the command returned the panel');
    const report = panel.current;
    assert.strictEqual(report.reference.path, 'drift-check/Biscoe.csv');
    assert.strictEqual(report.datasetDrift, true);
    const tests = Object.fromEntries(report.columns.map((c) => [c.column, c.test]));
    assert.deepStrictEqual(tests, { species: 'chisquare', island: 'z', bill_length_mm: 'ks', bill_depth_mm: 'ks', flipper_length_mm: 'ks', body_mass_g: 'ks', sex: 'z' });
    const state = await waitFor<DriftRenderedState>('the drift page to draw its charts', async () => {
      const s = await panel!.requestState().catch(() => undefined);
      return s && s.columns.length === 7 && s.charts > 0 ? s : undefined;
    });
    assert.strictEqual(state.sortedBy, 'drifted desc');
    assert.deepStrictEqual(state.cspViolations, []);
    assert.match(state.summary, /^\d\/7 drifted, data-set drift true$/);
    note(`drift webview: ${state.summary}, ${state.charts} charts drawn, order ${state.columns.join(', ')}`);
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await screenshot('drift-report');
  });

  it('MLOps: Check Data Expectations puts failing expectations in Problems on their manifest line, and clears them when fixed', async () => {
    const manifest = workspaceUri('mlops.yaml');
    const lines = original.split('\n');
    for (let i = 1; i <= 30; i++) {
      const f = lines[i]!.split(',');
      if (f[5]) f[5] = String(Number(f[5]) / 1000); // body mass in kilograms: a broken export
      lines[i] = f.join(',');
    }
    fs.writeFileSync(dataFile(), lines.join('\n'));
    const report = (await vscode.commands.executeCommand<CheckReport>('mlops.checkData'))!;
    assert.strictEqual(report.success, false);
    const diags = await waitFor('data Problems', () => {
      const d = vscode.languages.getDiagnostics(manifest).filter((x) => x.source === 'mlops-data');
      return d.length ? d : undefined;
    });
    assert.strictEqual(diags.length, 1);
    const text = fs.readFileSync(manifest.fsPath, 'utf8').split('\n');
    assert.match(text[diags[0]!.range.start.line]!, /^\s+- between: \{column: body_mass_g/);
    assert.match(diags[0]!.message, /^Dataset penguins: between \[body_mass_g\] failed: observed 0\.915 < mostly 0\.95 \(313\/342\); e\.g\. row 1: 3\.75/);
    panel?.panel.dispose();
    panel = undefined;
    await vscode.window.showTextDocument(manifest, { selection: diags[0]!.range });
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await screenshot('data-problems');

    fs.writeFileSync(dataFile(), original);
    const fixed = (await vscode.commands.executeCommand<CheckReport>('mlops.checkData'))!;
    assert.strictEqual(fixed.success, true);
    assert.strictEqual(vscode.languages.getDiagnostics(manifest).filter((x) => x.source === 'mlops-data').length, 0);
  });
});
