import { isObj, normalizePath, outPaths, section, stringList } from './manifest-view';

/** An edge `from` needs `to` (runs after it). `via` says why: declared or inferred from files. */
export interface DagEdge {
  from: string;
  to: string;
  via: 'needs' | 'deps';
  /** needs: index in `needs`; deps: index in `deps`. */
  index: number | undefined;
}

/** Where each output path comes from. Paths are normalised relative to the manifest folder. */
export function producers(steps: Record<string, unknown>): Map<string, string[]> {
  const byOut = new Map<string, string[]>();
  for (const [name, step] of Object.entries(steps)) {
    for (const o of outPaths(step)) {
      if (o.value.includes('${')) continue;
      const key = normalizePath(o.value);
      const list = byOut.get(key) ?? [];
      if (!list.includes(name)) list.push(name);
      byOut.set(key, list);
    }
  }
  return byOut;
}

/** The producer of a dependency path: an exact output, or an output folder that contains it. */
export function producerOf(dep: string, byOut: Map<string, string[]>): string[] {
  const d = normalizePath(dep);
  // Walk up the dep's folders: an output folder produces everything beneath it.
  for (let p = d; p; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
    const found = byOut.get(p);
    if (found) return found;
  }
  return [];
}

/**
 * The step graph: `needs` edges plus edges inferred from outs → deps, as DVC infers them.
 * `resolve` expands interpolations in deps (so `${steps.x.outs.0}` links too).
 */
export function buildDag(root: unknown, resolve: (s: string) => string | undefined = (s) => s): DagEdge[] {
  const steps = section(root, 'steps');
  const byOut = producers(steps);
  const edges: DagEdge[] = [];
  const seen = new Set<string>();
  for (const [name, step] of Object.entries(steps)) {
    if (!isObj(step)) continue;
    for (const n of stringList(step.needs)) {
      if (!(n.value in steps)) continue;
      seen.add(`${name}>${n.value}`);
      edges.push({ from: name, to: n.value, via: 'needs', index: n.index });
    }
    for (const d of stringList(step.deps)) {
      const dep = resolve(d.value);
      if (dep === undefined) continue;
      const from = producerOf(dep, byOut);
      for (const p of from) {
        // A step listed among several producers of its own dep is a duplicate-out problem, not a cycle.
        if (p === name && from.length > 1) continue;
        if (seen.has(`${name}>${p}`)) continue;
        seen.add(`${name}>${p}`);
        edges.push({ from: name, to: p, via: 'deps', index: d.index });
      }
    }
  }
  return edges;
}

/** Elementary cycles, one per strongly connected component (enough to report and break). */
export function findCycles(nodes: string[], edges: DagEdge[]): DagEdge[][] {
  const out = new Map<string, DagEdge[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  // Tarjan's SCC, iterative so a 5000-step chain cannot overflow the stack.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const succ = out.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++].to;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) low.set(work[work.length - 1].v, Math.min(low.get(work[work.length - 1].v)!, low.get(top.v)!));
      if (low.get(top.v) === index.get(top.v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.v);
        sccs.push(scc);
      }
    }
  }
  const cycles: DagEdge[][] = [];
  for (const scc of sccs) {
    const members = new Set(scc);
    for (const v of scc) {
      const self = (out.get(v) ?? []).find((e) => e.to === v);
      if (self) cycles.push([self]);
    }
    if (scc.length === 1) continue;
    // Walk inside the component from its first node until we come back to a visited node.
    const path: DagEdge[] = [];
    const pos = new Map<string, number>();
    let v = [...scc].sort()[0];
    while (!pos.has(v)) {
      pos.set(v, path.length);
      const e = (out.get(v) ?? []).find((x) => members.has(x.to) && x.to !== v)!;
      path.push(e);
      v = e.to;
    }
    cycles.push(path.slice(pos.get(v)));
  }
  return cycles;
}

/** Steps in an order where every step comes after what it needs (ties by manifest order). */
export function topoOrder(nodes: string[], edges: DagEdge[]): string[] {
  const indeg = new Map(nodes.map((n) => [n, 0]));
  const dependants = new Map<string, string[]>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    indeg.set(e.from, (indeg.get(e.from) ?? 0) + 1);
    dependants.set(e.to, [...(dependants.get(e.to) ?? []), e.from]);
  }
  const order: string[] = [];
  const rank = new Map(nodes.map((n, i) => [n, i]));
  // Min-heap by manifest position: a stable order that stays fast for thousands of steps.
  const heap: string[] = [];
  const less = (a: string, b: string) => rank.get(a)! < rank.get(b)!;
  const push = (n: string) => {
    heap.push(n);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const pop = (): string => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  for (const n of nodes) if (indeg.get(n) === 0) push(n);
  while (heap.length) {
    const n = pop();
    order.push(n);
    for (const d of dependants.get(n) ?? []) {
      indeg.set(d, indeg.get(d)! - 1);
      if (indeg.get(d) === 0) push(d);
    }
  }
  // Nodes on cycles never become ready; list them last so callers still see every step.
  const placed = new Set(order);
  for (const n of nodes) if (!placed.has(n)) order.push(n);
  return order;
}
