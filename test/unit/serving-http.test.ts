// The model server's HTTP surface with a real ONNX model and onnxruntime-node: v2 infer and
// /predict answers equal ONNX Runtime's own, every bad input gets a 4xx naming the problem (and
// the server keeps serving), auth, request ids, metadata, metrics text, feedback, body limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { config, get, penguinModel, post, readRequestLog, ROWS, startTestServer, tempDir, TOKEN, v2Body, version, writeModels, type TestServer } from './serving-harness';

describe('model server HTTP', () => {
  let s: TestServer;
  let models: { good: string; broken: string };
  let direct: { probabilities: number[]; label: number[] };

  before(async () => {
    models = await writeModels(tempDir());
    // What ONNX Runtime itself answers for ROWS: the reference for both endpoints.
    const session = await ort.InferenceSession.create(models.good);
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(ROWS.flat()), [ROWS.length, 9]) });
    direct = { probabilities: Array.from(out.probabilities!.data as Float32Array), label: Array.from(out.label!.data as BigInt64Array, Number) };
    await session.release();
    s = await startTestServer({ maxBodyBytes: 64 * 1024 });
    await s.handle.configure(config([version(3, models.good, 'stable', 100)]));
  });
  after(() => s.handle.close());

  test('v2 infer answers exactly what onnxruntime-node answers, by deployment or model name', async () => {
    for (const name of ['penguins-api', 'penguins-classifier']) {
      const r = await post(`${s.url}/v2/models/${name}/infer`, v2Body(ROWS));
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.model_version, '3');
      const probs = r.json.outputs.find((o: any) => o.name === 'probabilities');
      const label = r.json.outputs.find((o: any) => o.name === 'label');
      assert.deepEqual(probs.shape, [3, 3]);
      assert.equal(probs.datatype, 'FP32');
      assert.deepEqual(probs.data, direct.probabilities);
      assert.deepEqual(label, { name: 'label', shape: [3], datatype: 'INT64', data: direct.label });
    }
    const one = await post(`${s.url}/v2/models/penguins-api/versions/3/infer`, { ...v2Body(ROWS), outputs: [{ name: 'label' }] });
    assert.deepEqual(one.json.outputs.map((o: any) => o.name), ['label']);
  });

  test('/predict takes rows, records and dataframe_split, and answers class labels', async () => {
    const { features, classes } = penguinModel();
    const expected = direct.label.map((i) => classes[i]);
    assert.deepEqual(expected, ['Adelie', 'Chinstrap', 'Gentoo']);
    const rows = await post(`${s.url}/predict`, { instances: ROWS });
    assert.deepEqual(rows.json, { predictions: expected });
    const records = ROWS.map((r) => Object.fromEntries(features.map((f, j) => [f, r[j]])));
    assert.deepEqual((await post(`${s.url}/predict`, { instances: records })).json, { predictions: expected });
    // Columns in another order are put back in feature order.
    const reversed = [...features].reverse();
    const split = { dataframe_split: { columns: reversed, data: ROWS.map((r) => [...r].reverse()) } };
    assert.deepEqual((await post(`${s.url}/predict`, split)).json, { predictions: expected });
  });

  test('bad input gets a 4xx that names the problem, and the server keeps serving', async () => {
    const infer = `${s.url}/v2/models/penguins-api/infer`;
    const cases: [string, string, unknown, number, RegExp][] = [
      ['wrong shape', infer, { inputs: [{ name: 'input', shape: [2, 8], datatype: 'FP32', data: new Array(16).fill(1) }] }, 400, /input "input": expected shape \[N,9\], got \[2,8\]/],
      ['rank', infer, { inputs: [{ name: 'input', shape: [9], datatype: 'FP32', data: ROWS[0] }] }, 400, /expected shape \[N,9\], got \[9\]/],
      ['data count', infer, { inputs: [{ name: 'input', shape: [2, 9], datatype: 'FP32', data: ROWS[0] }] }, 400, /shape \[2,9\] needs 18 values, got 9/],
      ['wrong name', infer, { inputs: [{ name: 'x', shape: [1, 9], datatype: 'FP32', data: ROWS[0] }] }, 400, /missing input "input" \(FP32 \[N,9\]\)/],
      ['extra name', infer, { inputs: [v2Input(), { name: 'x', shape: [1], datatype: 'FP32', data: [1] }] }, 400, /unknown input "x"; the model takes "input"/],
      ['datatype', infer, { inputs: [{ ...v2Input(), datatype: 'INT64' }] }, 400, /input "input": expected datatype FP32, got INT64/],
      ['unknown datatype', infer, { inputs: [{ ...v2Input(), datatype: 'FLOAT' }] }, 400, /unknown datatype "FLOAT"/],
      ['non-numeric', infer, { inputs: [{ ...v2Input(), data: [1, 2, 'abc', 4, 5, 6, 7, 8, 9] }] }, 400, /input "input", value 2: "abc" is not a finite number/],
      ['no inputs', infer, { instances: ROWS }, 400, /"inputs" must be a non-empty list/],
      ['bad JSON', infer, '{"inputs": [', 400, /the body is not valid JSON/],
      ['empty body', infer, '', 400, /the body is empty/],
      ['unknown output', infer, { ...v2Body(ROWS), outputs: [{ name: 'logits' }] }, 400, /unknown output "logits"/],
      ['unknown model', `${s.url}/v2/models/churn/infer`, v2Body(ROWS), 404, /unknown model "churn"; this server serves "penguins-classifier"/],
      ['unknown version', `${s.url}/v2/models/penguins-api/versions/9/infer`, v2Body(ROWS), 404, /version 9 of "penguins-api" is not served here; loaded: 3/],
      ['short row', `${s.url}/predict`, { instances: [ROWS[0]!.slice(1)] }, 400, /instance 0 has 8 values, the model takes 9 \(bill_length_mm/],
      ['text cell', `${s.url}/predict`, { instances: [ROWS[0], [...ROWS[1]!.slice(0, 3), 'heavy', ...ROWS[1]!.slice(4)]] }, 400, /instance 1, feature "body_mass_g": "heavy" is not a finite number/],
      ['null cell', `${s.url}/predict`, { instances: [[null, ...ROWS[0]!.slice(1)]] }, 400, /instance 0, feature "bill_length_mm": null is not a finite number/],
      ['missing feature', `${s.url}/predict`, { instances: [{ bill_length_mm: 39 }] }, 400, /instance 0: missing feature "bill_depth_mm"/],
      ['missing column', `${s.url}/predict`, { dataframe_split: { columns: ['a'], data: [[1]] } }, 400, /dataframe_split: missing column "bill_length_mm"/],
      ['ragged split', `${s.url}/predict`, { dataframe_split: { columns: ['a', 'b'], data: [[1]] } }, 400, /dataframe_split.data\[0\] must be a list of 2 values/],
      ['mixed instances', `${s.url}/predict`, { instances: [ROWS[0], { a: 1 }] }, 400, /all rows .* or all records/],
      ['no instances', `${s.url}/predict`, { rows: ROWS }, 400, /expected "instances"/],
      ['unknown route', `${s.url}/v1/models/x:predict`, {}, 404, /no route POST/],
    ];
    for (const [what, url, body, status, message] of cases) {
      const r = await post(url, body);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
      assert.match(r.json.error, message, what);
    }
    const r = await get(`${s.url}/predict`);
    assert.equal(r.status, 405);
    // Still serving.
    assert.deepEqual((await post(`${s.url}/predict`, { instances: [ROWS[2]] })).json, { predictions: ['Gentoo'] });
  });

  test('a body over maxBodyBytes gets 413 without being read, and the server keeps serving', async () => {
    const big = JSON.stringify({ instances: Array.from({ length: 5000 }, () => ROWS[0]) });
    assert.ok(big.length > 64 * 1024);
    const r = await post(`${s.url}/predict`, big);
    assert.equal(r.status, 413);
    assert.match(r.json.error, /larger than the limit of 65536 bytes/);
    assert.equal((await post(`${s.url}/predict`, { instances: [ROWS[0]] })).status, 200);
    // Without a Content-Length (chunked), reading stops at the limit.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${s.url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 6; i++) req.write('x'.repeat(16 * 1024));
      req.end();
    });
    assert.equal(chunked, 413);
    assert.equal((await post(`${s.url}/predict`, { instances: [ROWS[0]] })).status, 200);
  });

  test('auth: a bearer token on everything but /v2/health/*', async () => {
    for (const [headers, message] of [[{}, /missing bearer token/], [{ authorization: 'Bearer nope' }, /the bearer token is wrong/]] as const) {
      for (const [method, route] of [['POST', '/predict'], ['POST', '/v2/models/penguins-api/infer'], ['GET', '/metrics'], ['GET', '/v2/models/penguins-api'], ['POST', '/v2/models/penguins-api/feedback']]) {
        const res = await fetch(`${s.url}${route}`, { method, headers, body: method === 'POST' ? JSON.stringify({ instances: ROWS }) : undefined });
        assert.equal(res.status, 401, `${method} ${route}`);
        assert.match(((await res.json()) as { error: string }).error, message);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
    }
    assert.equal((await get(`${s.url}/v2/health/live`, {})).status, 200);
    const ready = await get(`${s.url}/v2/health/ready`, {});
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { ready: true });
  });

  test('every response carries X-Request-Id: the client\'s or a generated one, and the log records it', async () => {
    const mine = await post(`${s.url}/predict`, { instances: [ROWS[1]] }, { 'x-request-id': 'req-abc-1' });
    assert.equal(mine.headers.get('x-request-id'), 'req-abc-1');
    const theirs = await post(`${s.url}/predict`, { instances: [ROWS[1]] });
    assert.match(theirs.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const refused = await fetch(`${s.url}/metrics`);
    assert.ok(refused.headers.get('x-request-id'));
    await waitUntil(() => readRequestLog(s.dir).some((e) => e.id === 'req-abc-1'));
    const line = readRequestLog(s.dir).find((e) => e.id === 'req-abc-1');
    assert.equal(line.version, 3);
    assert.equal(line.role, 'stable');
    assert.equal(line.status, 200);
    assert.deepEqual(line.rows, [ROWS[1]]);
    assert.deepEqual(line.predictions, ['Chinstrap']);
    assert.equal(line.columns[0], 'bill_length_mm');
  });

  test('metadata and readiness per model and version', async () => {
    const meta = JSON.parse((await get(`${s.url}/v2/models/penguins-api`)).text);
    assert.equal(meta.name, 'penguins-classifier');
    assert.deepEqual(meta.versions, ['3']);
    assert.equal(meta.platform, 'onnxruntime_onnx');
    assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 9] }]);
    assert.deepEqual(meta.outputs.map((o: any) => [o.name, o.datatype]), [['probabilities', 'FP32'], ['label', 'INT64']]);
    assert.equal((await get(`${s.url}/v2/models/penguins-api/ready`)).status, 200);
    assert.equal((await get(`${s.url}/v2/models/penguins-api/versions/3/ready`)).status, 200);
  });

  test('/metrics is Prometheus text with requests by version and code, latency buckets, in-flight and canary weight', async () => {
    const text = (await get(`${s.url}/metrics`)).text;
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      assert.ok(m, `not a sample line: ${line}`);
      samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
    }
    const l = 'deployment="penguins-api",model="penguins-classifier",version="3"';
    assert.ok(samples.get(`mlops_serving_requests_total{${l},code="200"}`)! >= 5);
    assert.ok(samples.get(`mlops_serving_requests_total{${l},code="400"}`)! >= 10);
    const count = samples.get(`mlops_serving_request_duration_seconds_count{${l}}`)!;
    assert.equal(samples.get(`mlops_serving_request_duration_seconds_bucket{${l},le="+Inf"}`), count);
    assert.ok(samples.get(`mlops_serving_request_duration_seconds_bucket{${l},le="0.5"}`)! <= count);
    assert.equal(samples.get(`mlops_serving_in_flight_requests{${l}}`), 0);
    assert.equal(samples.get(`mlops_serving_errors_total{${l}}`), 0);
    assert.equal(samples.get('mlops_serving_canary_weight{deployment="penguins-api",model="penguins-classifier"}'), 0);
    assert.match(text, /# TYPE mlops_serving_request_duration_seconds histogram/);
  });

  test('feedback is appended to feedback/*.jsonl in both shapes; bad feedback is refused', async () => {
    const a = await post(`${s.url}/v2/models/penguins-api/feedback`, { id: 'req-abc-1', labels: ['Chinstrap'] });
    assert.deepEqual(a.json, { accepted: 1 });
    const b = await post(`${s.url}/v2/models/penguins-classifier/feedback`, { feedback: [{ id: 'r1', label: 'Adelie' }, { id: 'r2', label: 'Gentoo' }] });
    assert.deepEqual(b.json, { accepted: 2 });
    const bad = await post(`${s.url}/v2/models/penguins-api/feedback`, { id: 'r3' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /"labels" must be a non-empty list/);
    const folder = path.join(s.dir, 'feedback');
    const lines = fs.readdirSync(folder).flatMap((f) => fs.readFileSync(path.join(folder, f), 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x)));
    assert.deepEqual(lines.map((e) => [e.id, e.labels]), [['req-abc-1', ['Chinstrap']], ['r1', ['Adelie']], ['r2', ['Gentoo']]]);
    assert.ok(lines.every((e) => typeof e.at === 'number'));
  });
});

function v2Input() {
  return { name: 'input', shape: [1, 9], datatype: 'FP32', data: ROWS[0] };
}

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
