/**
 * Colours for canvas and SVG drawing, read from VS Code's theme CSS variables so the charts
 * follow light, dark and high-contrast themes; `onThemeChange` fires when the user switches.
 */

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export interface Theme {
  kind: ThemeKind;
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  fontFamily: string;
  fontSize: number;
  /** Line width for series: thicker in high contrast. */
  lineWidth: number;
}

export function readTheme(): Theme {
  const kind = themeKind();
  const hc = kind.startsWith('high-contrast');
  const foreground = cssVar('--vscode-charts-foreground', cssVar('--vscode-editor-foreground', kind === 'light' ? '#333' : '#ccc'));
  return {
    kind,
    foreground,
    muted: cssVar('--vscode-descriptionForeground', foreground),
    grid: hc ? cssVar('--vscode-contrastBorder', foreground) : cssVar('--vscode-charts-lines', kind === 'light' ? 'rgba(0,0,0,0.15)' : 'rgba(255,255,255,0.15)'),
    background: cssVar('--vscode-editor-background', kind === 'light' ? '#fff' : '#1e1e1e'),
    fontFamily: cssVar('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(cssVar('--vscode-font-size', '13')) || 13,
    lineWidth: hc ? 3 : 2,
  };
}

// Orange and yellow last: light themes make them pale on white.
const CHART_VARS = ['--vscode-charts-blue', '--vscode-charts-red', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-orange', '--vscode-charts-yellow'];
const FALLBACK = ['#3794ff', '#f14c4c', '#89d185', '#b180d7', '#d18616', '#cca700'];

/**
 * A colour per series: the theme's six chart colours first, then hues spread by the golden
 * angle at a lightness that reads on the theme's background (no cap on the number of runs).
 */
export function seriesColor(i: number, kind: ThemeKind = themeKind()): string {
  if (i < CHART_VARS.length) return cssVar(CHART_VARS[i], FALLBACK[i]);
  const hue = Math.round((i * 137.508 + 20) % 360);
  const light = kind === 'light' || kind === 'high-contrast-light';
  return `hsl(${hue}, 70%, ${light ? 38 : 66}%)`;
}

/** Calls `fn` when VS Code switches the theme (it swaps the body class and the CSS variables). */
export function onThemeChange(fn: () => void): void {
  let last = `${document.body.className}|${document.documentElement.getAttribute('style') ?? ''}`;
  const check = () => {
    const now = `${document.body.className}|${document.documentElement.getAttribute('style') ?? ''}`;
    if (now !== last) {
      last = now;
      fn();
    }
  };
  const mo = new MutationObserver(check);
  mo.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}

/** Creates an SVG element. Never pass `style`: the CSP forbids inline style attributes (classes and presentation attributes only). */
export function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Creates an HTML element (same rule: no `style` attribute; set colours through `el.style`, which the CSP allows). */
export function htmlEl<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}
