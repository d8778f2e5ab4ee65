/**
 * Gathers what the planner needs, in one pass: all deps and outs hashed in one batch (stat
 * only when the file-hash cache holds), one step-cache lookup per step, and the last run's
 * record only for steps that miss the cache (to explain why).
 *
 * A dep produced by an upstream step gets the content the upstream's cached result will put
 * there (an upstream that will be skipped or restored leaves its out as cached), so a deleted
 * out restores upstream and skips downstream in the same plan. When the upstream has no cached
 * result, the dep's content is unknown until it runs: the fingerprint stays undefined and the
 * plan says `upstream will run`.
 */
import type { Store } from '../store/store';
import type { ObjectCache } from './cache';
import { componentsOf, fingerprintOf } from './fingerprint';
import type { FileHasher } from './hash-files';
import type { Pipeline } from './pipeline';
import type { OutFact, StepFacts } from './plan';
import type { StepRecords } from './step-records';

export interface FactSources {
  hasher: FileHasher;
  cache: ObjectCache;
  records: StepRecords;
  store: Pick<Store, 'getStepCache'>;
}

/** Facts for `names` (a topologically ordered subset of the pipeline). */
export async function gatherFacts(src: FactSources, p: Pipeline, names: readonly string[]): Promise<StepFacts[]> {
  const paths = new Set<string>();
  for (const n of names) {
    const s = p.specs.get(n)!;
    s.deps.forEach((d) => paths.add(d));
    s.outs.forEach((o) => paths.add(o.path));
  }
  const digests = await src.hasher.digest([...paths]);
  const inSet = new Set(names);
  const byName = new Map<string, StepFacts>();
  const out: StepFacts[] = [];
  for (const name of names) {
    const spec = p.specs.get(name)!;
    const deps: Record<string, string> = {};
    let pending = false;
    for (const d of spec.deps) {
      const prod = p.producerOf(d);
      const up = prod && prod.step !== name && inSet.has(prod.step) ? byName.get(prod.step) : undefined;
      if (!up) {
        deps[d] = digests.get(d)?.hash ?? '';
        continue;
      }
      const art = up.cacheable ? up.cached?.outs.find((a) => a.path === prod!.out.path) : undefined;
      const hash = !art ? undefined : d === art.path ? art.hash : src.cache.hashWithin(art.hash, d.slice(art.path.length + 1));
      if (hash === undefined) pending = true;
      else deps[d] = hash;
    }
    const components = componentsOf(spec, deps);
    const fingerprint = pending ? undefined : fingerprintOf(components);
    const entry = fingerprint !== undefined && spec.cacheable ? await src.store.getStepCache(name, fingerprint) : undefined;
    const cachedHash = new Map(entry?.outs.map((a) => [a.path, a.hash]));
    const outs: OutFact[] = spec.outs.map((o) => {
      const current = digests.get(o.path)?.hash;
      const want = cachedHash.get(o.path);
      // Only an out that differs from the cached one needs its object: spare the stats otherwise.
      const restorable = want !== undefined && current !== want && o.cache ? src.cache.has(want) : false;
      return { path: o.path, cache: o.cache, current, restorable };
    });
    const record = entry ? undefined : src.records.read(name);
    const f: StepFacts = {
      name,
      needs: p.needs.get(name) ?? [],
      cmd: spec.cmd,
      cacheable: spec.cacheable,
      components,
      fingerprint,
      cached: entry ? { outs: entry.outs, runId: entry.runId } : undefined,
      outs,
      previous: record ? { fingerprint: record.fingerprint, components: record.components } : undefined,
    };
    byName.set(name, f);
    out.push(f);
  }
  return out;
}
