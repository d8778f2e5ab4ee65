// Checks on schemas/mlops.schema.json: it compiles (also in ajv strict mode), every property is
// documented for hovers, a full manifest validates, typical mistakes fail where expected, and
// protocol/manifest.ts is what scripts/gen-manifest-types.mjs generates from it.
// Run: node --import tsx --test test/unit/manifest-schema.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv, { type ErrorObject, type Options } from 'ajv';
import schema from '../../schemas/mlops.schema.json';
import type { Manifest } from '../../protocol/manifest';

const root = path.resolve(__dirname, '..', '..');

type SchemaNode = { [key: string]: unknown };

function validator(opts: Options = { allErrors: true, strict: false }) {
  return new Ajv(opts).compile(schema);
}

/** Compiled once: the settings the language server uses. */
const validateManifest = validator();

function errorsOf(data: unknown): ErrorObject[] {
  const validate = validateManifest;
  assert.equal(validate(data), false, 'expected the manifest to be invalid');
  return validate.errors ?? [];
}

function show(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '/'} ${e.keyword} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
}

function findError(errors: ErrorObject[], keyword: string, instancePath: string): ErrorObject {
  const hit = errors.find((e) => e.keyword === keyword && e.instancePath === instancePath);
  assert.ok(hit, `expected a "${keyword}" error at ${instancePath}, got:\n${show(errors)}`);
  return hit;
}

/** A manifest that uses every section and every kind of entry. */
const full: Manifest = {
  version: 1,
  project: 'churn',
  description: 'Predicts which customers leave.',
  params: { lr: 0.05, epochs: 30, optimizer: 'adam', balanced: true, layers: [64, 32] },
  datasets: {
    customers: {
      path: 'data/customers.csv',
      format: 'csv',
      description: 'One row per customer.',
      schema: {
        id: 'integer',
        age: 'number',
        plan: { type: 'category', enum: ['basic', 'pro'] },
        code: { type: 'string', nullable: false },
        signup: 'datetime',
        churned: 'boolean',
      },
      expect: [
        { not_null: ['age', 'plan'] },
        { not_null: 'id', mostly: 1 },
        { between: { column: 'age', min: 18, max: 120 }, mostly: 0.99 },
        { between: { column: 'age', min: 0 } },
        { in_set: { column: 'plan', values: ['basic', 'pro'] } },
        { unique: 'id' },
        { unique: ['id', 'signup'] },
        { regex: { column: 'code', pattern: '^[A-Z]{2}[0-9]{4}$' }, mostly: 0.95 },
        { type: { column: 'age', type: 'integer' } },
        { row_count: { min: 1, max: 1000000 } },
        { column_exists: ['id', 'age'] },
        { column_exists: 'churned' },
      ],
    },
    holdout: { path: 'data/holdout.parquet' },
  },
  steps: {
    prepare: {
      description: 'Feature engineering.',
      cmd: 'node steps/prepare.js ${datasets.customers.path} data/features.csv',
      deps: ['steps/prepare.js', '${datasets.customers.path}'],
      outs: ['data/features.csv', { path: 'data/tmp', cache: false, persist: true }],
    },
    train: {
      needs: ['prepare'],
      cmd: ['python train.py --lr ${params.lr} --epochs ${params.epochs}', 'python export.py'],
      wdir: 'src',
      deps: ['train.py', 'data/features.csv'],
      params: ['lr', 'epochs'],
      outs: ['models/churn.onnx'],
      metrics: 'metrics.json',
      logs_metrics: ['val_auc', 'val_loss'],
      env: { PYTHONHASHSEED: '0', RUN_ID: '${run.id}' },
      retries: { limit: 2, backoff: '30s' },
      timeout: '1h30m',
      resources: { cpu: '500m', memory: '2Gi', gpu: 0 },
      image: 'python:3.12-slim',
      cache: true,
    },
    evaluate: { cmd: 'python evaluate.py ${steps.train.outs.0}', retries: 1, timeout: 600, resources: { cpu: 2 } },
  },
  sweeps: {
    'tune-lr': {
      step: 'train',
      method: 'tpe',
      objective: { metric: 'val_auc', goal: 'maximize' },
      space: {
        lr: { loguniform: [0.0001, 0.3] },
        dropout: { uniform: [0, 0.5] },
        depth: { int: [1, 8] },
        batch: { quniform: [16, 256, 16] },
        epochs: { choice: [10, 30, 60] },
      },
      trials: 20,
      parallel: 2,
      seed: 42,
      prune: { median: { warmup_steps: 5, startup_trials: 5 } },
    },
    grid: {
      step: 'train',
      method: 'grid',
      objective: { metric: 'val_loss', goal: 'minimize' },
      space: { optimizer: { choice: ['adam', 'sgd'] } },
      prune: { hyperband: { reduction_factor: 3, min_resource: 1, max_resource: 60 } },
    },
  },
  models: {
    'churn-classifier': {
      from: 'train',
      artifact: 'models/churn.onnx',
      flavor: 'onnx',
      description: 'Gradient boosted trees, exported to ONNX.',
      register: 'auto',
      tags: { team: 'growth' },
      gates: [
        { metric: 'val_auc', min: 0.8 },
        { metric: 'val_loss', max: 0.4 },
        { metric: 'val_auc', relative_to: 'production', tolerance: 0.01 },
      ],
      approvals: { production: 1, staging: 0 },
    },
    'churn-rules': { from: 'train', artifact: 'models/rules.pkl', flavor: 'command', command: 'python serve.py models/rules.pkl' },
  },
  deployments: {
    'churn-api': {
      model: 'churn-classifier',
      alias: 'production',
      port: 8700,
      auth: 'token',
      threads: 2,
      rollout: {
        strategy: 'canary',
        canary: { weight: 10, promote_after: { requests: 500, minutes: 30 }, rollback_if: { error_rate: 0.02, p99_ms: 150 } },
        sticky: 'X-User-Id',
      },
      monitor: {
        reference: 'data/features.csv',
        drift: { drift_share: 0.5, every_requests: 500, every_minutes: 15, window: 1000, columns: ['age', 'plan'] },
        alerts: [
          {
            name: 'high-drift',
            when: 'drift_share > 0.3',
            notify: ['vscode', 'webhook', 'audit'],
            webhook: 'https://hooks.example.com/mlops',
            secret_env: 'MLOPS_WEBHOOK_SECRET',
          },
          { when: 'error_rate > 0.05' },
        ],
      },
    },
    'churn-ab': { model: 'models:/churn-classifier@production', auth: 'none', rollout: { ab: { weights: { production: 80, '4': 20 } } } },
    'churn-shadow': { model: 'models:/churn-classifier/3', rollout: { strategy: 'shadow', shadow: { model: 'models:/churn-classifier@staging' } } },
  },
  export: {
    target: 'argo',
    image: 'python:3.12-slim',
    artifact_repository: { s3: { endpoint: 'minio.minio:9000', bucket: 'mlops-artifacts', key_prefix: 'churn/' } },
  },
};

/** `full` with a change applied to a deep copy. */
function variant(change: (m: any) => void): unknown {
  const copy = structuredClone(full);
  change(copy);
  return copy;
}

test('protocol/manifest.ts is up to date with the schema', async () => {
  // A .mjs script: import it by URL so the type checker does not need declarations for it.
  const url = pathToFileURL(path.join(root, 'scripts', 'gen-manifest-types.mjs')).href;
  const gen = (await import(url)) as { generateManifestTypes(): Promise<string> };
  const expected = await gen.generateManifestTypes();
  const actual = fs.readFileSync(path.join(root, 'protocol', 'manifest.ts'), 'utf8');
  assert.ok(
    actual === expected,
    'protocol/manifest.ts differs from what schemas/mlops.schema.json generates: run `npm run gen:types`',
  );
});

test('the schema compiles with ajv: strict: false, strictTypes: false, and strict: true without warnings', () => {
  const configs: Options[] = [
    { allErrors: true, strict: false },
    { allErrors: true, strictTypes: false },
    { allErrors: true }, // default strict settings ("log" for strictTypes/strictTuples)
    { allErrors: true, strict: true },
  ];
  for (const opts of configs) {
    const warnings: unknown[][] = [];
    const logger = { log() {}, warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => warnings.push(a) };
    assert.doesNotThrow(() => new Ajv({ ...opts, logger }).compile(schema), JSON.stringify(opts));
    assert.deepEqual(warnings, [], `ajv warnings with ${JSON.stringify(opts)}`);
  }
});

test('every property, definition and alternative has a description', () => {
  const s = schema as unknown as SchemaNode;
  const definitions = s.definitions as Record<string, SchemaNode>;
  const missing: string[] = [];
  const esc = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
  const described = (n: SchemaNode) => typeof n.description === 'string' && n.description.trim() !== '';
  const refTarget = (ref: string) => definitions[ref.replace(/^#\/definitions\//, '')];

  // `ownDescription`: properties must describe themselves even when they are a $ref (the hover
  // shows the property's text); elsewhere a bare $ref to a described definition is enough.
  const walk = (node: unknown, ptr: string, ownDescription: boolean) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
    const n = node as SchemaNode;
    if (typeof n.$ref === 'string') {
      const target = refTarget(n.$ref);
      assert.ok(target, `${ptr}: unresolved $ref ${n.$ref}`);
      if (!described(n) && (ownDescription || !described(target))) missing.push(ptr);
      return;
    }
    if (!described(n)) missing.push(ptr);
    for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, unknown>)) walk(v, `${ptr}/properties/${esc(k)}`, true);
    if (Array.isArray(n.items)) n.items.forEach((v, i) => walk(v, `${ptr}/items/${i}`, false));
    else walk(n.items, `${ptr}/items`, false);
    walk(n.additionalProperties, `${ptr}/additionalProperties`, false);
    walk(n.propertyNames, `${ptr}/propertyNames`, false);
    for (const key of ['oneOf', 'anyOf'] as const) {
      const branches = n[key];
      if (Array.isArray(branches)) branches.forEach((v, i) => walk(v, `${ptr}/${key}/${i}`, false));
    }
  };

  walk(s, '#', true);
  for (const [k, v] of Object.entries(definitions)) walk(v, `#/definitions/${esc(k)}`, true);
  assert.deepEqual(missing, [], `schema nodes without a description:\n${missing.join('\n')}`);
});

test('every definition has a title, used as the generated type name', () => {
  const definitions = (schema as unknown as SchemaNode).definitions as Record<string, SchemaNode>;
  const untitled = Object.entries(definitions).filter(([k, v]) => v.title !== k).map(([k]) => k);
  assert.deepEqual(untitled, [], 'definitions whose title is missing or differs from their key');
});

test('a manifest using every section validates', () => {
  const ok = validateManifest(full);
  assert.ok(ok, `unexpected errors:\n${show(validateManifest.errors ?? [])}`);
  assert.ok(validator({ allErrors: true, strict: true })(full));
  assert.ok(validateManifest({ version: 1, project: 'p', steps: {} }), 'a minimal manifest (empty steps) is valid');
});

test('an unknown step property is an additionalProperties error on the step', () => {
  const errors = errorsOf(variant((m) => (m.steps.train.comand = 'python x.py')));
  const e = findError(errors, 'additionalProperties', '/steps/train');
  assert.equal(e.params.additionalProperty, 'comand');
});

test('a bad sweep method is an enum error listing the allowed values', () => {
  const errors = errorsOf(variant((m) => (m.sweeps = { s: { step: 'train', method: 'bayes', objective: { metric: 'auc', goal: 'maximize' } } })));
  const e = findError(errors, 'enum', '/sweeps/s/method');
  assert.deepEqual(e.params.allowedValues, ['grid', 'random', 'tpe']);
});

test('retries of the wrong type fail at /steps/train/retries', () => {
  const errors = errorsOf(variant((m) => (m.steps.train.retries = 'twice')));
  findError(errors, 'type', '/steps/train/retries');
  findError(errors, 'oneOf', '/steps/train/retries');
  errorsOf(variant((m) => (m.steps.train.retries = -1)));
  errorsOf(variant((m) => (m.steps.train.retries = 1.5)));
});

test('an expectation with two kinds matches no alternative', () => {
  const errors = errorsOf(variant((m) => (m.datasets.customers.expect = [{ not_null: 'id', unique: 'id' }])));
  findError(errors, 'oneOf', '/datasets/customers/expect/0');
  const extra = errors.filter((e) => e.keyword === 'additionalProperties' && e.instancePath === '/datasets/customers/expect/0');
  assert.deepEqual(new Set(extra.map((e) => e.params.additionalProperty)), new Set(['unique', 'not_null']));
});

test('other mistakes are caught where they are made', () => {
  findError(errorsOf({ version: 2, project: 'p' }), 'const', '/version');
  findError(errorsOf({ version: 1 }), 'required', '');
  findError(errorsOf({ version: 1, project: 'p', extra: 1 }), 'additionalProperties', '');
  findError(errorsOf({ version: 1, project: 'p', steps: { '1bad': { cmd: 'x' } } }), 'propertyNames', '/steps');
  findError(errorsOf({ version: 1, project: 'p', steps: { s: {} } }), 'required', '/steps/s');
  findError(errorsOf(variant((m) => (m.steps.train.timeout = '30 minutes'))), 'pattern', '/steps/train/timeout');
  findError(errorsOf(variant((m) => (m.steps.train.resources.memory = '2 GB'))), 'pattern', '/steps/train/resources/memory');
  findError(errorsOf(variant((m) => (m.datasets.customers.expect = [{ unique: 'id', mostly: 1.5 }]))), 'maximum', '/datasets/customers/expect/0/mostly');
  findError(errorsOf(variant((m) => (m.datasets.customers.expect = [{ between: { column: 'age' } }]))), 'minProperties', '/datasets/customers/expect/0/between');
  findError(errorsOf(variant((m) => (m.sweeps['tune-lr'].space.lr = { loguniform: [0.1] }))), 'minItems', '/sweeps/tune-lr/space/lr/loguniform');
  findError(errorsOf(variant((m) => (m.sweeps['tune-lr'].space.lr = { uniform: [0, 1], choice: [1] }))), 'oneOf', '/sweeps/tune-lr/space/lr');
  findError(errorsOf(variant((m) => (m.sweeps['tune-lr'].prune = { median: {}, hyperband: {} }))), 'oneOf', '/sweeps/tune-lr/prune');
  findError(errorsOf(variant((m) => delete m.models['churn-rules'].command)), 'required', '/models/churn-rules');
  findError(errorsOf(variant((m) => (m.deployments['churn-api'].port = 80))), 'minimum', '/deployments/churn-api/port');
  findError(errorsOf(variant((m) => (m.deployments['churn-api'].model = 'models:/x@'))), 'pattern', '/deployments/churn-api/model');
  findError(errorsOf(variant((m) => delete m.deployments['churn-api'].rollout.canary)), 'required', '/deployments/churn-api/rollout');
  findError(errorsOf(variant((m) => (m.deployments['churn-api'].rollout.canary.weight = 100))), 'maximum', '/deployments/churn-api/rollout/canary/weight');
  findError(errorsOf(variant((m) => delete m.deployments['churn-api'].monitor.alerts[0].webhook)), 'required', '/deployments/churn-api/monitor/alerts/0');
  const notify = findError(errorsOf(variant((m) => (m.deployments['churn-api'].monitor.alerts[0].notify = ['email']))), 'enum', '/deployments/churn-api/monitor/alerts/0/notify/0');
  assert.deepEqual(notify.params.allowedValues, ['vscode', 'webhook', 'audit']);
  findError(errorsOf(variant((m) => (m.export.target = 'airflow'))), 'enum', '/export/target');
});
