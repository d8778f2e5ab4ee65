/**
 * Log metrics, params and tags from a pipeline step to MLOps Workbench (Node >= 20, no
 * dependencies: global fetch only).
 *
 *   import { logParam, logMetrics } from './mlops-tracking.mjs';
 *   logParam('lr', 0.05);
 *   logMetrics({ loss, val_auc: auc }, epoch);
 *
 * The orchestrator gives each step MLOPS_TRACKING_URI (http://127.0.0.1:PORT), MLOPS_TOKEN
 * and MLOPS_RUN_ID. Without them every call is a no-op and one warning is printed, so step
 * code never needs an "am I tracked?" branch. Same API as clients/python/mlops_tracking.py
 * (snake_case aliases are exported too).
 *
 * Calls only buffer. The buffer is sent every couple of seconds, at once when it holds
 * 1000 metric points, and when the event loop drains. If the process ends through
 * process.exit(), the unsent rest goes out through a synchronous child `node` (fetch is
 * async and 'exit' handlers cannot await); batches already in flight then may be lost.
 * A failed send prints a warning and drops that batch: tracking must not kill training.
 */
import { spawnSync } from 'node:child_process';

const BATCH_SIZE = 1000; // the server accepts up to 10 000 points per request
const FLUSH_INTERVAL_MS = 2000;
const TIMEOUT_MS = 10_000;

const uri = (process.env.MLOPS_TRACKING_URI ?? '').replace(/\/+$/, '');
const token = process.env.MLOPS_TOKEN ?? '';
const runId = process.env.MLOPS_RUN_ID ?? '';
const enabled = Boolean(uri && token && runId);

let metrics = [];
let params = {};
let tags = {};
let timer;
let warnedDisabled = false;
/** Sends run one after another so batches arrive in logging order. */
let sending = Promise.resolve();

/** Record one metric value; `step` defaults to 0 on the server, as in MLflow. */
export function logMetric(key, value, step) {
  if (!checkEnabled()) return;
  const point = { key: String(key), value: encodeValue(value), timestamp: Date.now() };
  if (step !== undefined && step !== null) point.step = Math.trunc(Number(step));
  metrics.push(point);
  if (metrics.length >= BATCH_SIZE) void flush();
  else schedule();
}

/** Record several metrics at the same step, e.g. `{ loss: 0.3, acc: 0.9 }`. */
export function logMetrics(values, step) {
  for (const [key, value] of Object.entries(values)) logMetric(key, value, step);
}

/** Record a parameter (stored as a string). Params cannot change once logged. */
export function logParam(key, value) {
  logParams({ [key]: value });
}

export function logParams(values) {
  if (!checkEnabled()) return;
  for (const [k, v] of Object.entries(values)) params[String(k)] = String(v);
  schedule();
}

/** Set a tag on the run (stored as a string); a later value replaces an earlier one. */
export function setTag(key, value) {
  setTags({ [key]: value });
}

export function setTags(values) {
  if (!checkEnabled()) return;
  for (const [k, v] of Object.entries(values)) tags[String(k)] = String(v);
  schedule();
}

/** Send everything buffered now; resolves when it has been sent (or dropped with a warning). */
export function flush() {
  if (!enabled) return Promise.resolve();
  clearTimeout(timer);
  timer = undefined;
  const requests = takeRequests();
  sending = sending.then(async () => {
    for (const [path, body] of requests) await post(path, body);
  });
  return sending;
}

export {
  logMetric as log_metric,
  logMetrics as log_metrics,
  logParam as log_param,
  logParams as log_params,
  setTag as set_tag,
  setTags as set_tags,
};

/** Empties the buffers into [path, body] requests: params and tags first, then metrics. */
function takeRequests() {
  const out = [];
  if (Object.keys(params).length) out.push(['/api/runs/log-params', { runId, params }]);
  if (Object.keys(tags).length) out.push(['/api/runs/set-tags', { runId, tags }]);
  for (let i = 0; i < metrics.length; i += BATCH_SIZE) {
    out.push(['/api/runs/log-metrics', { runId, metrics: metrics.slice(i, i + BATCH_SIZE) }]);
  }
  metrics = [];
  params = {};
  tags = {};
  return out;
}

function encodeValue(value) {
  const n = typeof value === 'number' ? value : Number(value);
  // Throw at the call site for non-numbers, where the bug is.
  if (Number.isNaN(n) && typeof value !== 'number') throw new TypeError(`mlops-tracking: metric value ${String(value)} is not a number`);
  if (Number.isFinite(n)) return n;
  // JSON has no NaN/Infinity; the server reads the protobuf-JSON spellings.
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

async function post(path, body) {
  try {
    const res = await fetch(uri + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) warn(`POST ${path} failed with HTTP ${res.status}: ${text.slice(0, 500)}`);
  } catch (err) {
    warn(`POST ${path} failed: ${err?.cause?.message ?? err?.message ?? err}`);
  }
}

function schedule() {
  // unref: a pending flush must not keep a finished script alive; beforeExit sends the rest.
  timer ??= setTimeout(() => void flush(), FLUSH_INTERVAL_MS).unref();
}

function warn(message) {
  process.stderr.write(`mlops-tracking: ${message}\n`);
}

function checkEnabled() {
  if (!enabled && !warnedDisabled) {
    warnedDisabled = true;
    warn('MLOPS_TRACKING_URI, MLOPS_TOKEN or MLOPS_RUN_ID is not set; nothing will be recorded');
  }
  return enabled;
}

function hasBuffered() {
  return metrics.length > 0 || Object.keys(params).length > 0 || Object.keys(tags).length > 0;
}

if (enabled) {
  // The event loop drained: send the rest; the pending fetch keeps the process alive until done.
  process.on('beforeExit', () => {
    if (hasBuffered()) void flush();
  });
  process.on('exit', () => {
    if (!hasBuffered()) return;
    clearTimeout(timer);
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', SYNC_SENDER], {
      input: JSON.stringify({ uri, token, requests: takeRequests() }),
      stdio: ['pipe', 'inherit', 'inherit'],
      timeout: TIMEOUT_MS,
    });
    if (child.status !== 0) warn('could not send the last batch at exit');
  });
}

/** Runs in a child node at process.exit(): posts the requests read from stdin, in order. */
const SYNC_SENDER = `
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { uri, token, requests } = JSON.parse(input);
let failed = false;
for (const [path, body] of requests) {
  const res = await fetch(uri + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
    body: JSON.stringify(body),
  }).catch((err) => ({ ok: false, status: String(err) }));
  if (!res.ok) { failed = true; process.stderr.write('mlops-tracking: POST ' + path + ' failed at exit: ' + res.status + '\\n'); }
}
process.exit(failed ? 1 : 0);
`;
