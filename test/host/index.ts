// Entry point loaded by VS Code's extension host (extensionTestsPath): must export run().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // The extension host's console reaches the runner mixed with workbench logs, so the
  // reporter output also goes to a file that the runner streams (VSCODE_TEST_LOG).
  const log = process.env.VSCODE_TEST_LOG;
  if (log) {
    const base = Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void };
    const orig = base.consoleLog;
    base.consoleLog = (...a: unknown[]) => {
      fs.appendFileSync(log, format(...a) + '\n');
      orig(...a);
    };
  }
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const only = process.env.MLOPS_HOST_SUITE; // e.g. "smoke" runs only smoke.test.js
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (!f.endsWith('.test.js')) continue;
    if (only ? f !== `${only}.test.js` : f.startsWith('smoke')) continue;
    mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const summary = `${runner.stats?.passes ?? 0} passed, ${failures} failed`;
      const out = process.env.VSCODE_TEST_RESULT;
      if (out) fs.writeFileSync(out, JSON.stringify({ passes: runner.stats?.passes ?? 0, failures, summary }) + '\n');
      console.log(summary);
      if (failures > 0) reject(new Error(`${failures} tests failed.`));
      else resolve();
    });
  });
}
