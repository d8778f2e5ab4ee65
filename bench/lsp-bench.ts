/**
 * Our language server side by side with Red Hat's yaml-language-server (configured with our
 * schema for mlops.yaml), both driven over stdio with the same generated manifests.
 *
 *   node --import tsx bench/lsp-bench.ts [--sizes 10,100,1000,5000] [--servers mlops,yaml] [--json out.json]
 *
 * Measured per server and size (one fresh server process each):
 *  - open→diagnostics: didOpen until the first publication for the document;
 *  - edit→diagnostics: each edit adds or removes a real error (an unknown key in a step), and
 *    the time runs until the diagnostics that reflect it arrive;
 *  - completion p50/p95: an edit opens a new line in a step, and the completion request for
 *    that line follows at once (the server is re-checking meanwhile);
 *  - hover p50/p95 on a key of a step; RSS of the server process at the end.
 * yaml-language-server validates 200 ms after the last change (a fixed debounce of its own), so
 * its edit→diagnostics includes that wait; the "net" column subtracts it.
 */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CompletionRequest, HoverRequest, type Diagnostic } from 'vscode-languageserver-protocol/node';
import { BenchClient } from './lsp-client';
import { GENERATED_FILES, generatedManifest } from './lsp-manifests';

const ROOT = path.resolve(__dirname, '..');
const YAML_LS_DEBOUNCE_MS = 200;
const TIMEOUT_MS = 120_000;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const sizes = arg('sizes', '10,100,1000,5000').split(',').map(Number);
const servers = arg('servers', 'mlops,yaml').split(',') as ServerName[];
const jsonOut = arg('json', '');

type ServerName = 'mlops' | 'yaml';

interface Result {
  server: ServerName;
  steps: number;
  lines: number;
  openMs?: number;
  edit: number[];
  editMissed: number;
  /** Server CPU time per edit (user + system), which load on the machine does not inflate as much as wall time. */
  editCpuMs?: number;
  completion: number[];
  completionEmpty: number;
  hover: number[];
  rssMb?: number;
}

function pct(xs: number[], p: number): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function buildServer(): Promise<string> {
  const out = path.join(os.tmpdir(), 'mlops-lsp-bench', 'server.js');
  await esbuild.build({ entryPoints: [path.join(ROOT, 'server/src/server.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'warning', minify: true });
  return out;
}

function startServer(name: ServerName, serverJs: string): BenchClient {
  if (name === 'mlops') return new BenchClient(process.execPath, [serverJs, '--stdio']);
  const schemaUri = pathToFileURL(path.join(ROOT, 'schemas/mlops.schema.json')).toString();
  const yaml = { schemas: { [schemaUri]: ['mlops.yaml', '**/mlops.yaml'] }, validate: true, hover: true, completion: true, format: { enable: true }, schemaStore: { enable: false }, maxItemsComputed: 100000 };
  return new BenchClient(process.execPath, [path.join(ROOT, 'node_modules/yaml-language-server/bin/yaml-language-server'), '--stdio'], { yaml, http: {}, '[yaml]': {}, editor: {} });
}

/** Line of the first `needle` at or after the first `after`. */
const lineOf = (text: string, needle: string, after = '') => {
  const at = text.indexOf(needle, after ? text.indexOf(after) : 0);
  if (at === -1) throw new Error(`"${needle}" not found`);
  return text.slice(0, at).split('\n').length - 1;
};

async function run(name: ServerName, n: number, serverJs: string): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mlops-lsp-bench-${name}-${n}-`));
  for (const [rel, body] of Object.entries(GENERATED_FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  }
  const text = generatedManifest(n);
  fs.writeFileSync(path.join(dir, 'mlops.yaml'), text);
  const uri = pathToFileURL(path.join(dir, 'mlops.yaml')).toString();
  const client = startServer(name, serverJs);
  const res: Result = { server: name, steps: n, lines: text.split('\n').length, edit: [], editMissed: 0, completion: [], completionEmpty: 0, hover: [] };
  const reps = n >= 5000 ? 10 : 20;
  try {
    await client.start(pathToFileURL(dir).toString());
    // Give a server that pulls its configuration time to apply it (not timed).
    await new Promise((r) => setTimeout(r, 500));
    const t0 = performance.now();
    client.open(uri, text);
    const opened = await client.diagnosticsWhen(uri, t0, () => true, TIMEOUT_MS);
    res.openMs = opened === undefined ? undefined : opened - t0;
    let version = 1;

    // edit → diagnostics: toggle an unknown key in a step near the middle.
    const cpuBefore = client.cpuMs();
    for (let i = 0; i < reps * 2; i++) {
      const k = Math.floor(n / 2) + Math.floor(i / 2) * 7;
      const line = lineOf(text, '    timeout: 5m', `  step${k % n}:\n`);
      const adding = i % 2 === 0;
      const range = { start: { line, character: 4 }, end: { line, character: adding ? 11 : 12 } };
      const t = performance.now();
      client.change(uri, ++version, range, adding ? 'timeoutt' : 'timeout');
      const hit = (d: Diagnostic[]) => d.some((x) => x.range.start.line === line) === adding;
      const at = await client.diagnosticsWhen(uri, t, hit, TIMEOUT_MS);
      if (at === undefined) res.editMissed++;
      else res.edit.push(at - t);
    }
    const cpuAfter = client.cpuMs();
    if (cpuBefore !== undefined && cpuAfter !== undefined) res.editCpuMs = (cpuAfter - cpuBefore) / (reps * 2);

    // completion right after an edit that opens a new line in a step.
    for (let i = 0; i < reps; i++) {
      const k = (Math.floor(n / 3) + i * 11) % n;
      const line = lineOf(text, `  step${k}:\n`) + 1;
      const t = performance.now();
      client.change(uri, ++version, { start: { line, character: 0 }, end: { line, character: 0 } }, '    \n');
      const list = await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line, character: 4 } });
      res.completion.push(performance.now() - t);
      const items = Array.isArray(list) ? list : (list?.items ?? []);
      if (!items.some((x) => x.label === 'retries')) res.completionEmpty++;
      // Undo, and let the server finish that check before the next round (each round starts idle).
      const t2 = performance.now();
      client.change(uri, ++version, { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, '');
      await client.diagnosticsWhen(uri, t2 + (name === 'yaml' ? YAML_LS_DEBOUNCE_MS : 0), () => true, TIMEOUT_MS, name === 'mlops' ? version : undefined);
      await new Promise((r) => setTimeout(r, 100));
    }

    // hover on a key.
    for (let i = 0; i < reps + 10; i++) {
      const k = (Math.floor(n / 4) + i * 13) % n;
      const line = lineOf(text, `  step${k}:\n`) + 2;
      const t = performance.now();
      await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: 5 } });
      res.hover.push(performance.now() - t);
    }
    res.rssMb = client.rssMb();
  } finally {
    await client.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

const f = (x: number | undefined) => (x === undefined ? '—' : x < 10 ? x.toFixed(1) : x.toFixed(0));

function table(results: Result[]): string {
  const rows = [
    '| steps (lines) | server | open→diag ms | edit→diag p50 / p95 ms | net of debounce p50 | server CPU per edit ms | completion after edit p50 / p95 ms | hover p50 / p95 ms | RSS MB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const debounce = r.server === 'yaml' ? YAML_LS_DEBOUNCE_MS : 0;
    const p50 = pct(r.edit, 50);
    rows.push(
      `| ${r.steps} (${r.lines}) | ${r.server === 'mlops' ? 'mlops' : 'yaml-language-server'} | ${f(r.openMs)} | ${f(p50)} / ${f(pct(r.edit, 95))}${r.editMissed ? ` (${r.editMissed} missed)` : ''} | ${f(p50 === undefined ? undefined : p50 - debounce)} | ${f(r.editCpuMs)} | ${f(pct(r.completion, 50))} / ${f(pct(r.completion, 95))}${r.completionEmpty ? ` (${r.completionEmpty} without the step keys)` : ''} | ${f(pct(r.hover, 50))} / ${f(pct(r.hover, 95))} | ${f(r.rssMb)} |`,
    );
  }
  const ratios: string[] = [];
  for (const n of sizes) {
    const a = results.find((r) => r.server === 'mlops' && r.steps === n);
    const b = results.find((r) => r.server === 'yaml' && r.steps === n);
    if (!a || !b) continue;
    const ratio = (x?: number, y?: number) => (x && y ? `${(y / x).toFixed(1)}×` : '—');
    ratios.push(
      `| ${n} | ${ratio(a.openMs, b.openMs)} | ${ratio(pct(a.edit, 50), pct(b.edit, 50))} | ${ratio(pct(a.edit, 50), (pct(b.edit, 50) ?? 0) - YAML_LS_DEBOUNCE_MS)} | ${ratio(a.editCpuMs, b.editCpuMs)} | ${ratio(pct(a.completion, 95), pct(b.completion, 95))} | ${ratio(pct(a.hover, 95), pct(b.hover, 95))} | ${ratio(a.rssMb, b.rssMb)} |`,
    );
  }
  if (ratios.length) {
    rows.push('', 'yaml-language-server ÷ mlops (higher = ours is faster / smaller):', '', '| steps | open→diag | edit→diag p50 | edit→diag p50 net | CPU per edit | completion p95 | hover p95 | RSS |', '|---|---|---|---|---|---|---|---|', ...ratios);
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const serverJs = await buildServer();
  const results: Result[] = [];
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const n of sizes) {
    for (const s of servers) {
      const r = await run(s, n, serverJs);
      results.push(r);
      console.error(`  ${s} ${n} steps: open ${f(r.openMs)} ms, edit p50 ${f(pct(r.edit, 50))} ms, completion p95 ${f(pct(r.completion, 95))} ms, hover p95 ${f(pct(r.hover, 95))} ms`);
    }
  }
  console.log(table(results));
  const targets = results.filter((r) => r.server === 'mlops');
  const t1000 = targets.find((r) => r.steps === 1000);
  const t5000 = targets.find((r) => r.steps === 5000);
  if (t1000) console.log(`\ntarget at 1000 steps: edit→diagnostics p50 ${f(pct(t1000.edit, 50))} ms (≤ 50), completion p95 ${f(pct(t1000.completion, 95))} ms (≤ 20)`);
  if (t5000) console.log(`target at 5000 steps: completion p95 ${f(pct(t5000.completion, 95))} ms, hover p95 ${f(pct(t5000.hover, 95))} ms, edit→diagnostics p95 ${f(pct(t5000.edit, 95))} ms (each ≤ 100)`);
  console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
