import type { GraphEdge, GraphModel } from '../../../protocol/webview';
import type { RunStatus } from '../../../protocol/types';
import { buildDag, type ManifestParser, topoOrder } from '../../../orchestrator/manifest';

/**
 * The pipeline graph of a manifest's text, read with the core parser (the same understanding
 * as the language server and the Pipeline tree): steps in topological order, `needs` edges
 * and edges inferred from outs → deps, each drawn upstream → downstream.
 */
export function graphFromManifest(parser: ManifestParser, text: string, statuses: ReadonlyMap<string, { status: RunStatus; message?: string }> = new Map()): GraphModel {
  const parsed = parser.parseSync(text);
  const root = parsed.value as { steps?: unknown } | null;
  const stepsValue = root && typeof root === 'object' ? root.steps : undefined;
  if (!stepsValue || typeof stepsValue !== 'object' || Array.isArray(stepsValue)) {
    return { nodes: [], edges: [], message: parsed.syntax.length ? `mlops.yaml does not parse: ${parsed.syntax[0].message}` : 'mlops.yaml has no steps yet.' };
  }
  const steps = stepsValue as Record<string, unknown>;
  const names = Object.keys(steps);
  const dag = buildDag(parsed.value);
  const order = topoOrder(names, dag);
  const seen = new Set<string>();
  const edges: GraphEdge[] = [];
  for (const e of dag) {
    // DagEdge says "from needs to": the arrow runs the other way.
    const key = `${e.to}>${e.from}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ from: e.to, to: e.from, via: e.via });
  }
  return {
    nodes: order.map((step) => {
      const s = steps[step] as { description?: unknown } | null;
      const description = s && typeof s === 'object' && typeof s.description === 'string' ? s.description : undefined;
      const last = statuses.get(step);
      return { step, status: last?.status, ...(last?.message ? { message: last.message } : {}), ...(description ? { description } : {}) };
    }),
    edges,
  };
}

/** Offsets of a step's key in the manifest (`train` in `  train:`), for revealing it. */
export function stepKeySpan(parser: ManifestParser, text: string, step: string): { start: number; end: number } | undefined {
  const parsed = parser.parseSync(text);
  const steps = (parsed.value as { steps?: Record<string, unknown> } | null)?.steps;
  if (!steps || typeof steps !== 'object' || !(step in steps)) return undefined;
  const span = parsed.keySpan(['steps', step]);
  // A quoted key's span includes its quotes: select the name itself.
  const raw = text.slice(span.start, span.end);
  const at = raw.indexOf(step);
  return at >= 0 ? { start: span.start + at, end: span.start + at + step.length } : span;
}
