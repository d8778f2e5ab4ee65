import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManifestDiagnostic } from '../../protocol/diagnostics';
import { LineIndex, ManifestParser, validateManifestSync } from '../../orchestrator/manifest';

const OK = `version: 1
project: demo
params:
  lr: 0.1
  epochs: 10
datasets:
  raw:
    path: data/raw.csv
steps:
  prepare:
    cmd: node prepare.mjs \${datasets.raw.path}
    deps: [prepare.mjs, "\${datasets.raw.path}"]
    outs: [data/features.csv]
  train:
    cmd: node train.mjs --lr \${params.lr} --epochs \${params.epochs} --in \${steps.prepare.outs.0}
    deps: [data/features.csv]
    params: [lr, epochs]
    outs: [model.onnx]
    logs_metrics: [accuracy]
models:
  clf:
    from: train
    artifact: model.onnx
    gates: [{metric: accuracy, min: 0.9}]
deployments:
  api:
    model: clf
`;

function check(text: string, fileExists?: (p: string) => boolean): ManifestDiagnostic[] {
  return validateManifestSync(text, fileExists ? { fileExists } : {}).diagnostics;
}

/** The text a diagnostic points at, and its 1-based line:col. */
function at(text: string, d: ManifestDiagnostic): { token: string; line: number; col: number } {
  const p = new LineIndex(text).positionAt(d.start);
  return { token: text.slice(d.start, d.end), line: p.line + 1, col: p.character + 1 };
}

function only(diags: ManifestDiagnostic[], fragment: string): ManifestDiagnostic {
  const found = diags.filter((d) => d.message.includes(fragment));
  assert.equal(found.length, 1, `one diagnostic containing ${JSON.stringify(fragment)}; got:\n${diags.map((d) => d.message).join('\n')}`);
  return found[0];
}

describe('validateManifest', () => {
  it('accepts a valid manifest with no problems', () => {
    assert.deepEqual(check(OK), []);
  });

  it('reports YAML syntax errors at the parser position and keeps checking the rest', () => {
    const text = OK.replace('    outs: [model.onnx]', '    outs: [model.onnx');
    const d = check(text);
    const syntax = d.filter((x) => x.code === 'yaml-syntax');
    assert.ok(syntax.length >= 1);
    assert.equal(at(text, syntax[0]).line, 19);
    assert.match(syntax[0].message, /^YAML syntax: /);
  });

  it('flags an unknown property on its key with a did-you-mean and the allowed keys', () => {
    const text = OK.replace('    outs: [model.onnx]', '    outz: [model.onnx]');
    const d = only(check(text), 'Unknown property "outz"');
    assert.deepEqual(at(text, d), { token: 'outz', line: 18, col: 5 });
    assert.match(d.message, /did you mean "outs"\?/);
    assert.match(d.message, /Allowed: .*cmd/);
    assert.deepEqual(d.data?.suggestions, ['outs']);
  });

  it('lists allowed values for an enum and the expected type for a type error', () => {
    const text = OK + `sweeps:\n  s:\n    step: train\n    method: bayes\n    objective: {metric: accuracy, goal: maximize}\n    space: {lr: {uniform: [0.01, 0.3]}}\n    trials: many\n`;
    const diags = check(text);
    const e = only(diags, '"method" of sweep "s"');
    assert.equal(at(text, e).token, 'bayes');
    assert.match(e.message, /Allowed values: "grid", "random", "tpe"/);
    const t = only(diags, '"trials" of sweep "s"');
    assert.equal(at(text, t).token, 'many');
    assert.match(t.message, /must be an integer, not the string "many"/);
  });

  it('reports a missing required property on the key of the object that lacks it', () => {
    const text = OK.replace('    cmd: node prepare.mjs ${datasets.raw.path}\n', '');
    const d = only(check(text), 'missing the required property "cmd"');
    assert.equal(at(text, d).token, 'prepare');
    assert.match(d.message, /^Step "prepare" is missing/);
  });

  it('collapses oneOf noise into one message about the accepted forms', () => {
    const text = OK.replace('    params: [lr, epochs]', '    params: [lr, epochs]\n    retries: often\n    timeout: soon');
    const diags = check(text).filter((d) => d.code === 'schema');
    assert.equal(diags.length, 2, diags.map((d) => d.message).join('\n'));
    assert.match(only(diags, '"retries"').message, /must be an integer or a mapping/);
    assert.equal(at(text, only(diags, '"timeout"')).token, 'soon');
  });

  it('reports an unknown step in needs, with suggestions, on the name itself', () => {
    const text = OK.replace('    deps: [data/features.csv]', '    needs: [prepar]\n    deps: [data/features.csv]');
    const d = only(check(text), 'Unknown step "prepar"');
    assert.deepEqual(at(text, d), { token: 'prepar', line: 16, col: 13 });
    assert.match(d.message, /did you mean "prepare"\? Known steps: prepare, train\./);
    assert.deepEqual(d.data, { suggestions: ['prepare'], name: 'prepar', kind: 'step' });
  });

  it('names a cycle and reports it on every edge', () => {
    const text = `version: 1\nproject: c\nsteps:\n  a:\n    cmd: x\n    needs: [c]\n  b:\n    cmd: x\n    needs: [a]\n  c:\n    cmd: x\n    needs: [b]\n  d:\n    cmd: x\n    needs: [a]\n`;
    const cyc = check(text).filter((d) => d.code === 'cycle');
    assert.equal(cyc.length, 3);
    for (const d of cyc) assert.match(d.message, /Cycle in the pipeline: a → c → b → a/);
    assert.deepEqual(cyc.map((d) => at(text, d)).map((p) => `${p.line}:${p.token}`), ['6:c', '9:a', '12:b']);
  });

  it('finds a cycle through outputs and dependencies, not only needs', () => {
    const text = `version: 1\nproject: c\nsteps:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: x\n    deps: [a.txt]\n    outs: [b.txt]\n`;
    const cyc = check(text).filter((d) => d.code === 'cycle');
    assert.equal(cyc.length, 2);
    assert.deepEqual(cyc.map((d) => at(text, d).token).sort(), ['a.txt', 'b.txt']);
    assert.match(cyc[0].message, /depends on an output of/);
  });

  it('reports a duplicate out on every step that declares it', () => {
    const text = OK.replace('    outs: [model.onnx]', '    outs: [data/features.csv, model.onnx]');
    const dup = check(text).filter((d) => d.code === 'duplicate-out');
    assert.equal(dup.length, 2);
    assert.deepEqual(dup.map((d) => at(text, d).line), [13, 18]);
    assert.match(dup[0].message, /also declared by step "train"/);
    assert.match(dup[1].message, /also declared by step "prepare"/);
  });

  it('points at the ${…} that does not resolve, for params, datasets and step outs', () => {
    const text = OK.replace('--lr ${params.lr}', '--lr ${params.lrr}').replace('node prepare.mjs ${datasets.raw.path}', 'node prepare.mjs ${datasets.rawdata.path}').replace('${steps.prepare.outs.0}', '${steps.prepare.outs.3}');
    const diags = check(text).filter((d) => d.code === 'unresolved-interpolation');
    assert.deepEqual(diags.map((d) => at(text, d).token), ['${datasets.rawdata.path}', '${params.lrr}', '${steps.prepare.outs.3}']);
    assert.match(diags[1].message, /unknown param "lrr".*did you mean "\$\{params.lr\}"/);
  });

  it('checks model sources, deployment models and sweep params', () => {
    const text = OK.replace('    from: train', '    from: trian').replace('    model: clf', '    model: clff') + `sweeps:\n  s:\n    step: train\n    objective: {metric: accuracy, goal: maximize}\n    space: {lrr: {uniform: [0.01, 0.3]}}\n`;
    const diags = check(text);
    assert.equal(at(text, only(diags, 'Unknown step "trian" in the source of model "clf"')).token, 'trian');
    assert.equal(at(text, only(diags, 'Deployment "api" uses unknown model "clff"')).token, 'clff');
    assert.equal(at(text, only(diags, 'searches over "lrr"')).token, 'lrr');
  });

  it('reports duplicate keys inside a block and across blocks', () => {
    const inBlock = OK.replace('    outs: [model.onnx]', '    outs: [model.onnx]\n    outs: [other.onnx]');
    assert.ok(check(inBlock).some((d) => d.code === 'duplicate-key' && at(inBlock, d).line === 19));
    const across = OK + `steps:\n  again:\n    cmd: x\n`;
    const d = only(check(across), 'Duplicate key "steps"');
    assert.equal(at(across, d).line, 28);
    assert.match(d.message, /first defined on line 9/);
    const entry = OK.replace('  train:\n', '  prepare:\n    cmd: y\n  train:\n');
    assert.match(only(check(entry), 'Duplicate key "prepare"').message, /first defined on line 10/);
  });

  it('warns about a dep that no step produces and no file provides', () => {
    const exists = (p: string) => ['prepare.mjs', 'data/raw.csv'].includes(p);
    assert.deepEqual(check(OK, exists), []);
    const text = OK.replace('    deps: [data/features.csv]', '    deps: [data/features.csv, train.mjs]');
    const d = only(check(text, exists), 'Dependency "train.mjs"');
    assert.equal(d.severity, 'warning');
    assert.equal(at(text, d).token, 'train.mjs');
  });

  it('warns when a gate checks a metric that no step logs', () => {
    const text = OK.replace('{metric: accuracy, min: 0.9}', '{metric: acuracy, min: 0.9}');
    const d = only(check(text), 'checks metric "acuracy"');
    assert.equal(d.severity, 'warning');
    assert.match(d.message, /did you mean "accuracy"\?/);
  });

  it('explains empty files and binary data', () => {
    assert.match(check('')[0].message, /The manifest is empty/);
    assert.match(check('   \n\n')[0].message, /The manifest is empty/);
    const bin = check('version: 1\n\u0000\u0001\u0002garbage');
    assert.equal(bin.length, 1);
    assert.match(bin[0].message, /binary data \(a NUL byte on line 2\)/);
  });

  it('survives deep nesting and pathological input', () => {
    const deep = 'version: 1\nproject: x\nparams:\n  p: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n';
    const d = check(deep);
    assert.ok(d.length >= 1, 'reports something instead of throwing');
    const deepBlock = 'version: 1\nproject: x\nparams:\n' + Array.from({ length: 300 }, (_, i) => ' '.repeat(2 * (i + 1)) + `k${i}:`).join('\n') + ' 1\n';
    assert.ok(Array.isArray(check(deepBlock)));
  });

  it('reports thousands of errors without stopping at the first', () => {
    const steps = Array.from({ length: 3000 }, (_, i) => `  s${i}:\n    cmd: x\n    needs: [missing${i}]\n`).join('');
    const d = check(`version: 1\nproject: many\nsteps:\n${steps}`);
    assert.equal(d.filter((x) => x.code === 'unknown-step').length, 3000);
  });

  it('gives the same result whether a document is parsed in blocks or whole', () => {
    const blocky = check(OK.replace('    outs: [model.onnx]', '    outz: [model.onnx]'));
    // An alias forces the whole-document path; the diagnostics must not change.
    const whole = check(OK.replace('    outs: [model.onnx]', '    outz: [model.onnx]').replace('project: demo', 'project: &p demo'));
    assert.deepEqual(whole.map((d) => [d.message, d.start - 3]), blocky.map((d) => [d.message, d.start]));
  });

  it('re-parses only the edited block (cache hit for the rest)', () => {
    const parser = new ManifestParser();
    const steps = Array.from({ length: 400 }, (_, i) => `  s${i}:\n    cmd: echo ${i}\n`).join('');
    const text = `version: 1\nproject: big\nsteps:\n${steps}`;
    const first = parser.parseSync(text);
    const edited = text.replace('echo 200\n', 'echo 200 changed\n');
    const second = parser.parseSync(edited);
    const s = (second.value as { steps: Record<string, { cmd: string }> }).steps;
    assert.equal(s.s200.cmd, 'echo 200 changed');
    assert.equal(Object.keys(s).length, 400);
    assert.notEqual(first, second);
  });
});
