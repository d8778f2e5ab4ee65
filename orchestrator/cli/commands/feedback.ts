/**
 * `mlops feedback NAME --file labels.csv [--id-column id] [--label-column label]`: true labels
 * for logged predictions, posted in batches to the deployment's `POST /v2/models/NAME/feedback`.
 * Ids: the request id for a single-row request, `<requestId>:<row>` (0-based) for a row of a
 * multi-row request (see protocol/monitoring.ts). Everything that can be checked locally is
 * checked before the daemon is asked: the deployment is declared, the columns exist, and every
 * id names a logged prediction (a label for an unknown id would never join; `--skip-unknown`
 * sends the others, for labels of requests the log has rotated away).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT, MlopsError } from '../../../protocol/errors';
import { parseCsv } from '../../data/csv';
import { unknownDeployment } from '../../deployments/spec';
import { deploymentPaths } from '../../monitoring/deployment-drift';
import { rowIds } from '../../monitoring/feedback-join';
import { readRequestLog } from '../../monitoring/request-log';
import { loadManifest } from '../../pipelines/load';
import type { Output } from '../output';
import { connect, workspaceOf } from '../workspace-access';

export interface FeedbackCliOptions {
  file: string;
  idColumn?: string;
  labelColumn?: string;
  batch?: string;
  skipUnknown?: boolean;
  json?: boolean;
}

/** How often the model server writes its request log (RotatingJsonl's default flush period). */
const LOG_FLUSH_MS = 250;

/** Ids a label can name: each logged row (`abc:0`…), and a single-row request's own id. */
function knownIds(workspace: string, name: string): Set<string> {
  const ids = new Set<string>();
  for (const e of readRequestLog(deploymentPaths(workspace, name).requests, { okOnly: true })) {
    for (const id of rowIds(e)) ids.add(id);
    if (e.predictions?.length === 1) ids.add(`${e.id}:0`);
  }
  return ids;
}

export async function feedbackCommand(io: Output, cwd: string, name: string, o: FeedbackCliOptions): Promise<number> {
  const ws = workspaceOf(cwd);
  const declared = loadManifest(ws).manifest.deployments ?? {};
  if (!declared[name]) throw unknownDeployment(name, Object.keys(declared));
  const file = path.resolve(cwd, o.file);
  if (!fs.existsSync(file)) throw new MlopsError('NOT_FOUND', `--file: no such file: ${o.file}`);
  const batch = o.batch === undefined ? 500 : Number(o.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new MlopsError('BAD_REQUEST', `--batch ${o.batch}: expected a positive integer`);
  const [header, ...rows] = parseCsv(fs.readFileSync(file, 'utf8')).filter((r) => r.length > 1 || r[0] !== '');
  const idCol = o.idColumn ?? 'id';
  const labelCol = o.labelColumn ?? 'label';
  const idAt = header?.indexOf(idCol) ?? -1;
  const labelAt = header?.indexOf(labelCol) ?? -1;
  if (idAt < 0 || labelAt < 0) throw new MlopsError('BAD_REQUEST', `${o.file}: no column "${idAt < 0 ? idCol : labelCol}" (columns: ${(header ?? []).join(', ')}); name them with --id-column and --label-column`);
  const items = rows.filter((r) => r[idAt] && r[labelAt] !== undefined && r[labelAt] !== '').map((r) => ({ id: r[idAt]!, label: r[labelAt]! }));
  if (!items.length) throw new MlopsError('BAD_REQUEST', `${o.file}: no rows with both an id and a label`);
  let known = knownIds(ws, name);
  let unknown = items.filter((it) => !known.has(it.id));
  if (unknown.length) {
    // The model server appends its request log every LOG_FLUSH_MS: the newest answers may not be on disk yet.
    await new Promise((r) => setTimeout(r, LOG_FLUSH_MS * 2));
    known = knownIds(ws, name);
    unknown = items.filter((it) => !known.has(it.id));
  }
  if (unknown.length && !o.skipUnknown) {
    const shown = unknown.slice(0, 3).map((it) => `"${it.id}"`).join(', ');
    throw new MlopsError(
      'BAD_REQUEST',
      `${o.file}: ${unknown.length} of ${items.length} id(s) name no logged prediction of ${name} (${shown}${unknown.length > 3 ? ', …' : ''}); ids are X-Request-Id values, with :ROW (0-based) for a row of a multi-row request. --skip-unknown sends the others`,
    );
  }
  const sendable = o.skipUnknown ? items.filter((it) => known.has(it.id)) : items;
  if (!sendable.length) throw new MlopsError('BAD_REQUEST', `${o.file}: none of the ${items.length} id(s) names a logged prediction of ${name}`);

  const { client, conn } = await connect(ws);
  const status = await client.call('GET /api/deployments/get', { name });
  if (status.state !== 'serving' || !status.url) throw new MlopsError('CONFLICT', `deployment "${name}" is ${status.state}: start it with mlops deploy ${name} first`);
  let accepted = 0;
  for (let i = 0; i < sendable.length; i += batch) {
    const res = await fetch(`${status.url}/v2/models/${encodeURIComponent(name)}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${conn.token}` },
      body: JSON.stringify({ feedback: sendable.slice(i, i + batch) }),
    });
    const text = await res.text();
    if (!res.ok) throw new MlopsError(res.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', `the deployment refused feedback rows ${i + 1}–${Math.min(i + batch, sendable.length)}: HTTP ${res.status} ${text.slice(0, 300)}`);
    accepted += (JSON.parse(text) as { accepted?: number }).accepted ?? 0;
  }
  const skipped = rows.length - items.length;
  const unknownSkipped = items.length - sendable.length;
  if (o.json) io.json({ deployment: name, sent: sendable.length, accepted, skipped, unknown: unknownSkipped });
  else {
    const notes = [skipped ? `${skipped} rows without an id or label skipped` : '', unknownSkipped ? `${unknownSkipped} unknown id(s) skipped` : ''].filter(Boolean);
    io.out(`sent ${accepted} label${accepted === 1 ? '' : 's'} to ${name}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }
  return EXIT.OK;
}
