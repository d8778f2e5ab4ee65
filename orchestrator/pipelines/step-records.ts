/**
 * The last successful execution of each step, with its fingerprint components, in
 * `.mlops/cache/steps/<step>.json`. The store's step cache answers "is this exact fingerprint
 * cached?"; this record answers "what was different last time?", which the store cannot (it
 * keeps only the fingerprint hash). Written at each step's success, like the cache entry, so
 * a crashed run still explains the next one.
 *
 * TODO(#3): move into the Store (`getLastStepRecord(step)` / a `components` column on
 * step_cache) when its owner adds it; this file is then the only thing to change.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from '../../protocol/types';
import type { FingerprintComponents } from './fingerprint';

export interface StepRecord {
  step: string;
  fingerprint: string;
  components: FingerprintComponents;
  outs: Artifact[];
  /** The step run that produced the outs. */
  runId: string;
  at: number;
}

export class StepRecords {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, '.mlops', 'cache', 'steps');
  }

  read(step: string): StepRecord | undefined {
    try {
      const r = JSON.parse(readFileSync(join(this.dir, `${step}.json`), 'utf8')) as StepRecord;
      return r && typeof r.fingerprint === 'string' && r.components ? r : undefined;
    } catch {
      // Missing or unreadable: the plan then says `no previous run`, which is safe.
      return undefined;
    }
  }

  async write(record: StepRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${record.step}.json`);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, file);
  }
}
