// One build for every bundle: the extension (client), the language server, the CLI and
// daemon (Node, CommonJS, `vscode` external), the host test suite, and the webviews (browser).
// Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// Native and large runtime packages stay in node_modules and ship in the .vsix per platform.
const nodeExternals = ['vscode', 'libsql', 'onnxruntime-node', 'mocha'];

/** @type {esbuild.BuildOptions} */
const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: production ? false : 'linked',
  minify: production,
  external: nodeExternals,
  logLevel: 'warning',
};

const hostTests = fs.existsSync('test/host')
  ? fs.readdirSync('test/host').filter((f) => f.endsWith('.ts')).map((f) => path.join('test/host', f))
  : [];

const builds = [
  { ...nodeCommon, entryPoints: { 'client/extension': 'client/src/extension.ts' } },
  { ...nodeCommon, entryPoints: { 'server/server': 'server/src/server.ts' } },
  { ...nodeCommon, entryPoints: { 'cli/mlops': 'orchestrator/cli/main.ts' }, banner: { js: '#!/usr/bin/env node' } },
  // The model server process the daemon forks per deployment (orchestrator/serving/index.ts).
  { ...nodeCommon, entryPoints: { 'serving/model-server': 'orchestrator/serving/model-server-entry.ts' } },
  ...(hostTests.length ? [{ ...nodeCommon, entryPoints: hostTests, outdir: 'dist/test/host', outbase: 'test/host' }] : []),
  ...(fs.existsSync('media/src')
    ? [{ bundle: true, platform: 'browser', format: 'iife', target: 'es2022', sourcemap: production ? false : 'linked', minify: production,
        entryPoints: fs.readdirSync('media/src').filter((f) => f.endsWith('.ts') && f.split('.').length === 2).map((f) => path.join('media/src', f)), outdir: 'dist/media', logLevel: 'warning' }]
    : []),
].map((b) => (b.outdir ? b : { ...b, outdir: 'dist' }));

const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  fs.chmodSync('dist/cli/mlops.js', 0o755);
  console.log(`[esbuild] built ${builds.length} bundles${production ? ' (production)' : ''}`);
}
