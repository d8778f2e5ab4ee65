/**
 * A temp copy of examples/penguins with its `prepare` and `train` outputs made by running the
 * sample's own steps (about a second), for tests that need a trained model or the prepared
 * splits without going through the daemon. A clean clone has no step outputs in
 * examples/penguins (they are git-ignored), so tests must never read them from there.
 * Made once per test process (node:test runs each file in its own process) and removed at exit.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SAMPLE = path.resolve(__dirname, '../../examples/penguins');
/** Step outputs and state that a copy must not inherit from a developer's working tree. */
const GENERATED = new Set(['.mlops', 'data/prepared', 'models', 'metrics']);

let made: string | undefined;

export function trainedPenguins(): string {
  if (made) return made;
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-trained-penguins-')));
  fs.cpSync(SAMPLE, dir, { recursive: true, filter: (src) => !GENERATED.has(path.relative(SAMPLE, src).split(path.sep).join('/')) });
  // The manifest's own command lines and params (seed 42, test size 0.25, lr 0.1, 300 epochs).
  for (const args of [
    ['steps/prepare.mjs', '--input', 'data/penguins.csv', '--seed', '42', '--test-size', '0.25'],
    ['steps/train.mjs', '--lr', '0.1', '--epochs', '300', '--l2', '0.0001'],
  ]) {
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`trained-penguins: node ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (made = dir);
}
