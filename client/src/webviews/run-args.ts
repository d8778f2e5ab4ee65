import type { RunSummary } from '../../../protocol/types';

/** A run id, or a run node of the Experiments tree (its context menu passes those). */
export type RunArg = string | { kind: 'run'; run: RunSummary } | { id: string };

function runIdOf(a: unknown): string | undefined {
  if (typeof a === 'string') return a;
  if (a && typeof a === 'object') {
    const o = a as { kind?: string; run?: RunSummary; id?: unknown };
    if (o.kind === 'run' && o.run) return o.run.id;
    if (typeof o.id === 'string') return o.id;
  }
  return undefined;
}

/** Run ids from the command's arguments: `(ids[])`, `(id, id, …)`, or a tree's `(node, selectedNodes[])`. */
export function runIdsFromArgs(args: unknown[]): string[] {
  const flat: unknown[] = [];
  // A tree passes (clicked node, all selected nodes): the selection wins when there is one.
  if (args.length === 2 && Array.isArray(args[1]) && args[0] !== null && typeof args[0] === 'object' && !Array.isArray(args[0])) flat.push(...(args[1] as unknown[]));
  else for (const a of args) flat.push(...(Array.isArray(a) ? a : [a]));
  return [...new Set(flat.map(runIdOf).filter((id): id is string => !!id))];
}
