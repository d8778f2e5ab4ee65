/**
 * Layered (Sugiyama-style) layout of a small DAG, left to right: each node sits in the column
 * of its longest path from a source, edges that span several columns get invisible waypoints
 * so they bend around the nodes in between, and a few barycenter sweeps order each column to
 * cut crossings. Edges that close a cycle (an invalid manifest) are kept and marked `back`.
 * Pure (no DOM), unit-tested; fast enough for thousands of steps.
 */

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

/** `from` runs before `to`. */
export interface LayoutEdge {
  from: string;
  to: string;
}

export interface PlacedNode extends LayoutNode {
  /** Top-left corner. */
  x: number;
  y: number;
  /** Column: longest path from a source. */
  layer: number;
  /** Position inside the column, top to bottom. */
  order: number;
}

export interface RoutedEdge extends LayoutEdge {
  /** Polyline from the source's right side to the target's left side, through waypoints. */
  points: { x: number; y: number }[];
  /** The edge closes a cycle: drawn backwards, not used for layering. */
  back: boolean;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: RoutedEdge[];
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** Horizontal space between columns. */
  layerGap: number;
  /** Vertical space between nodes of a column. */
  nodeGap: number;
  margin: number;
}

const DEFAULTS: LayoutOptions = { layerGap: 64, nodeGap: 24, margin: 16 };
const WAYPOINT_HEIGHT = 8;

/** Edges (by index) that close a cycle, found by an iterative DFS in input order. */
export function backEdges(ids: string[], edges: LayoutEdge[]): Set<number> {
  const out = new Map<string, number[]>();
  edges.forEach((e, i) => out.set(e.from, [...(out.get(e.from) ?? []), i]));
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const back = new Set<number>();
  for (const start of ids) {
    if (state.has(start)) continue;
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const succ = out.get(top.id) ?? [];
      if (top.next >= succ.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const ei = succ[top.next++];
      const to = edges[ei].to;
      const s = state.get(to);
      if (s === 1) back.add(ei);
      else if (s === undefined) {
        state.set(to, 1);
        stack.push({ id: to, next: 0 });
      }
    }
  }
  return back;
}

/** Column of each node: the longest path to it from a source, ignoring back edges. */
export function assignLayers(ids: string[], edges: LayoutEdge[], back: Set<number>): Map<string, number> {
  const known = new Set(ids);
  const indeg = new Map(ids.map((id) => [id, 0]));
  const succ = new Map<string, string[]>();
  edges.forEach((e, i) => {
    if (back.has(i) || !known.has(e.from) || !known.has(e.to)) return;
    indeg.set(e.to, indeg.get(e.to)! + 1);
    succ.set(e.from, [...(succ.get(e.from) ?? []), e.to]);
  });
  const layer = new Map(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => indeg.get(id) === 0);
  for (let qi = 0; qi < queue.length; qi++) {
    const u = queue[qi];
    for (const v of succ.get(u) ?? []) {
      layer.set(v, Math.max(layer.get(v)!, layer.get(u)! + 1));
      indeg.set(v, indeg.get(v)! - 1);
      if (indeg.get(v) === 0) queue.push(v);
    }
  }
  return layer;
}

interface Cell {
  id: string;
  dummy: boolean;
  width: number;
  height: number;
  layer: number;
  preds: Cell[];
  succs: Cell[];
  index: number;
}

export function layeredLayout(nodes: LayoutNode[], edges: LayoutEdge[], options: Partial<LayoutOptions> = {}): Layout {
  const opt = { ...DEFAULTS, ...options };
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const valid = edges.filter((e) => known.has(e.from) && known.has(e.to));
  const back = backEdges(ids, valid);
  const layerOf = assignLayers(ids, valid, back);
  const depth = Math.max(0, ...layerOf.values()) + 1;

  // Cells: real nodes plus one waypoint per column an edge crosses.
  const cells = new Map<string, Cell>();
  nodes.forEach((n, i) => cells.set(n.id, { id: n.id, dummy: false, width: n.width, height: n.height, layer: layerOf.get(n.id)!, preds: [], succs: [], index: i }));
  const chains: string[][] = []; // per valid edge: the cell ids it passes through
  valid.forEach((e, ei) => {
    if (back.has(ei) || e.from === e.to) {
      chains.push([e.from, e.to]);
      return;
    }
    const chain = [e.from];
    const from = cells.get(e.from)!;
    const to = cells.get(e.to)!;
    let prev = from;
    for (let l = from.layer + 1; l < to.layer; l++) {
      const d: Cell = { id: `\0${ei}:${l}`, dummy: true, width: 0, height: WAYPOINT_HEIGHT, layer: l, preds: [prev], succs: [], index: nodes.length + ei };
      prev.succs.push(d);
      cells.set(d.id, d);
      chain.push(d.id);
      prev = d;
    }
    prev.succs.push(to);
    to.preds.push(prev);
    chain.push(e.to);
    chains.push(chain);
  });

  const layers: Cell[][] = Array.from({ length: depth }, () => []);
  for (const c of [...cells.values()].sort((a, b) => a.index - b.index)) layers[c.layer].push(c);

  // Barycenter sweeps: down by predecessors, up by successors; ties keep the current order.
  const pos = new Map<Cell, number>();
  const renumber = (layer: Cell[]) => layer.forEach((c, i) => pos.set(c, i));
  layers.forEach(renumber);
  const sweep = (layer: Cell[], by: (c: Cell) => Cell[]) => {
    const key = new Map(layer.map((c) => {
      const n = by(c);
      return [c, n.length ? n.reduce((s, x) => s + pos.get(x)!, 0) / n.length : pos.get(c)!] as const;
    }));
    layer.sort((a, b) => key.get(a)! - key.get(b)! || pos.get(a)! - pos.get(b)!);
    renumber(layer);
  };
  for (let it = 0; it < 4; it++) {
    for (let l = 1; l < depth; l++) sweep(layers[l], (c) => c.preds);
    for (let l = depth - 2; l >= 0; l--) sweep(layers[l], (c) => c.succs);
  }
  for (let l = 1; l < depth; l++) sweep(layers[l], (c) => c.preds);

  // Coordinates: columns left to right, each column centred vertically.
  const colWidth = layers.map((layer) => Math.max(0, ...layer.map((c) => c.width)));
  const colHeight = layers.map((layer) => layer.reduce((s, c) => s + c.height, 0) + opt.nodeGap * Math.max(0, layer.length - 1));
  const tallest = Math.max(0, ...colHeight);
  const xy = new Map<string, { x: number; y: number; order: number }>();
  let x = opt.margin;
  layers.forEach((layer, l) => {
    let y = opt.margin + (tallest - colHeight[l]) / 2;
    layer.forEach((c, order) => {
      xy.set(c.id, { x: x + (colWidth[l] - c.width) / 2, y, order });
      y += c.height + opt.nodeGap;
    });
    x += colWidth[l] + opt.layerGap;
  });

  const placed: PlacedNode[] = nodes.map((n) => ({ ...n, ...xy.get(n.id)!, layer: layerOf.get(n.id)! }));
  const byId = new Map(placed.map((p) => [p.id, p]));
  const routed: RoutedEdge[] = valid.map((e, ei) => {
    const a = byId.get(e.from)!;
    const b = byId.get(e.to)!;
    if (back.has(ei) || e.from === e.to) {
      return { from: e.from, to: e.to, back: true, points: [{ x: a.x + a.width / 2, y: a.y + a.height }, { x: b.x + b.width / 2, y: b.y + b.height }] };
    }
    const points = [{ x: a.x + a.width, y: a.y + a.height / 2 }];
    for (const id of chains[ei].slice(1, -1)) {
      const d = cells.get(id)!;
      const p = xy.get(id)!;
      const cy = p.y + d.height / 2;
      // Through the whole column, so the line passes level with the nodes beside it.
      const left = opt.margin + colWidth.slice(0, d.layer).reduce((s, w) => s + w + opt.layerGap, 0);
      points.push({ x: left, y: cy }, { x: left + colWidth[d.layer], y: cy });
    }
    points.push({ x: b.x, y: b.y + b.height / 2 });
    return { from: e.from, to: e.to, back: false, points };
  });
  const width = x - opt.layerGap + opt.margin;
  return { nodes: placed, edges: routed, width: Math.max(width, 2 * opt.margin), height: tallest + 2 * opt.margin };
}

/** SVG path data for a routed edge: horizontal-tangent curves between its points. */
export function edgePath(e: RoutedEdge): string {
  const [first, ...rest] = e.points;
  if (e.back) {
    const last = rest[rest.length - 1] ?? first;
    const drop = 40;
    return `M${first.x},${first.y} C${first.x},${first.y + drop} ${last.x},${last.y + drop} ${last.x},${last.y}`;
  }
  let d = `M${first.x},${first.y}`;
  let p = first;
  for (const q of rest) {
    if (q.y === p.y) d += ` L${q.x},${q.y}`;
    else {
      const dx = (q.x - p.x) / 2;
      d += ` C${p.x + dx},${p.y} ${q.x - dx},${q.y} ${q.x},${q.y}`;
    }
    p = q;
  }
  return d;
}
