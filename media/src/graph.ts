/**
 * Pipeline graph page (bundled to dist/media/graph.js): the manifest's DAG laid out in layers
 * and drawn as SVG, nodes coloured by status through graph.css (theme variables), a click or
 * Enter on a node asks the host to reveal the step. Answers `getState` from the SVG itself.
 */
import type { GraphFromView, GraphModel, GraphNode, GraphRenderedState, GraphToView } from '../../protocol/webview';
import { edgePath, layeredLayout } from './lib/graph-layout';
import { Host } from './lib/host';
import { htmlEl, onThemeChange, readTheme, svgEl, themeKind } from './lib/theme';

const NODE_HEIGHT = 46;
const NODE_PAD_X = 16;
const NODE_MIN_WIDTH = 110;

/** What each status reads as under the step name. */
const STATUS_TEXT: Record<string, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  running: 'running…',
  queued: 'queued',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
  skipped: 'cached',
  none: 'never run',
};
const STATUS_ICON: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  running: '●',
  queued: '◷',
  cancelled: '⊘',
  interrupted: '!',
  skipped: '✓',
  none: '○',
};

/** How a node reads: icon, text and CSS class (status colour); a skip is "cached" only when it was one. */
function look(n: GraphNode): { icon: string; text: string; cls: string } {
  const status = n.status ?? 'none';
  if (status === 'skipped' && n.message && !/cache|restor/i.test(n.message)) {
    return { icon: '–', text: /^upstream failed/i.test(n.message) ? 'not run: upstream failed' : `skipped: ${n.message}`, cls: 'status-blocked' };
  }
  return { icon: STATUS_ICON[status] ?? '•', text: STATUS_TEXT[status] ?? status, cls: `status-${status}` };
}

/** A big graph shrinks to the panel's width down to this scale, then scrolls instead. */
const MIN_SCALE = 0.6;

const app = document.getElementById('app')!;
let graph: GraphModel | undefined;
const host = new Host<GraphToView, GraphFromView>(onMessage);

let measureCtx: CanvasRenderingContext2D | null | undefined;
function textWidth(text: string, weight: string): number {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  const t = readTheme();
  if (!measureCtx) return text.length * t.fontSize * 0.62;
  measureCtx.font = `${weight} ${t.fontSize}px ${t.fontFamily}`;
  return measureCtx.measureText(text).width;
}

function render(): void {
  if (!graph) return;
  if (!graph.nodes.length) {
    app.replaceChildren(htmlEl('p', { class: 'status' }, graph.message ?? 'No steps.'));
    return;
  }
  const nodes = graph.nodes.map((n) => ({
    id: n.step,
    width: Math.max(NODE_MIN_WIDTH, Math.ceil(Math.max(textWidth(n.step, '600'), textWidth(`✓ ${look(n).text}`, '400'))) + 2 * NODE_PAD_X),
    height: NODE_HEIGHT,
  }));
  const layout = layeredLayout(nodes, graph.edges);
  const svg = svgEl('svg', { width: layout.width, height: layout.height + 8, viewBox: `0 0 ${layout.width} ${layout.height + 8}`, role: 'group', 'aria-label': 'Pipeline steps and their dependencies' });
  // Fits the panel (CSS max-width: 100%), but never below MIN_SCALE: past that it scrolls. CSSOM, not a style attribute (CSP).
  svg.style.minWidth = `${Math.round(layout.width * MIN_SCALE)}px`;
  const defs = svgEl('defs');
  const marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }));
  defs.append(marker);
  svg.append(defs);

  const edges = svgEl('g', { class: 'edges' });
  for (const e of layout.edges) {
    const via = graph.edges.find((g) => g.from === e.from && g.to === e.to)?.via ?? 'needs';
    const path = svgEl('path', { class: `edge via-${via}${e.back ? ' back' : ''}`, d: edgePath(e), 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to });
    path.append(svgEl('title', {}, `${e.to} ${via === 'needs' ? 'needs' : 'reads an output of'} ${e.from}${e.back ? ' (cycle!)' : ''}`));
    edges.append(path);
  }
  svg.append(edges);

  const byStep = new Map(graph.nodes.map((n) => [n.step, n]));
  const group = svgEl('g', { class: 'nodes' });
  for (const p of layout.nodes) {
    const n = byStep.get(p.id)!;
    const status = n.status ?? 'none';
    const lk = look(n);
    const g = svgEl('g', {
      class: `node ${lk.cls}`,
      transform: `translate(${p.x},${p.y})`,
      tabindex: 0,
      role: 'button',
      'aria-label': `${n.step}: ${lk.text}. Open in mlops.yaml`,
      'data-step': n.step,
      'data-status': status,
      'data-layer': p.layer,
      'data-x': Math.round(p.x),
      'data-y': Math.round(p.y),
    });
    g.append(svgEl('title', {}, [n.step, n.description, `${lk.text}${n.message && n.message !== lk.text ? ` (${n.message})` : ''} — click to open in mlops.yaml`].filter(Boolean).join('\n')));
    g.append(svgEl('rect', { class: 'node-box', width: p.width, height: p.height, rx: 6, ry: 6 }));
    g.append(svgEl('rect', { class: 'node-bar', width: 5, height: p.height - 2, x: 1, y: 1, rx: 2 }));
    g.append(svgEl('text', { class: 'node-name', x: NODE_PAD_X, y: 19 }, n.step));
    g.append(svgEl('text', { class: 'node-status', x: NODE_PAD_X, y: 36 }, `${lk.icon} ${lk.text}`));
    const reveal = () => host.post({ type: 'revealStep', step: n.step });
    g.addEventListener('click', reveal);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        reveal();
      }
    });
    group.append(g);
  }
  svg.append(group);

  const legend = htmlEl('ul', { class: 'legend', 'aria-label': 'Status colours' });
  for (const s of ['succeeded', 'skipped', 'running', 'queued', 'failed', 'none']) {
    legend.append(htmlEl('li', { class: `status-${s}` }, htmlEl('span', { class: 'legend-swatch', 'aria-hidden': 'true' }), STATUS_TEXT[s]));
  }
  const caption = htmlEl('p', { class: 'note' }, `${graph.nodes.length} steps · ${graph.edges.length} dependencies${graph.runId ? ` · statuses of run ${graph.runId.slice(0, 8)}` : ''} · click a step to open it in mlops.yaml`);
  app.replaceChildren(htmlEl('div', { class: 'graph-scroll' }, svg), legend, caption);
}

function onMessage(m: GraphToView): void {
  switch (m.type) {
    case 'graph':
      graph = m.graph;
      render();
      break;
    case 'stepStatus': {
      const n = graph?.nodes.find((x) => x.step === m.step);
      if (!n) break;
      n.status = m.status;
      n.message = m.message;
      render();
      break;
    }
    case 'clickNode': {
      const el = Array.from(app.querySelectorAll<SVGGElement>('g.node')).find((g) => g.dataset.step === m.step);
      el?.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
      break;
    }
    case 'getState':
      host.post({ type: 'state', requestId: m.requestId, state: renderedState() });
      break;
  }
}

function renderedState(): GraphRenderedState {
  return {
    nodes: Array.from(app.querySelectorAll<SVGGElement>('g.node')).map((g) => ({
      step: g.dataset.step ?? '',
      status: g.dataset.status ?? '',
      layer: Number(g.dataset.layer),
      x: Number(g.dataset.x),
      y: Number(g.dataset.y),
    })),
    edges: Array.from(app.querySelectorAll<SVGPathElement>('path.edge')).map((p) => ({ from: p.dataset.from ?? '', to: p.dataset.to ?? '' })),
    theme: themeKind(),
    cspViolations: [...host.cspViolations],
  };
}

onThemeChange(render);
host.post({ type: 'ready' });
