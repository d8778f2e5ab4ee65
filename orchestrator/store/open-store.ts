/**
 * Which store a workspace uses, and opening it. One setting, a URL:
 *   - unset (the default): SQLite in the workspace, `.mlops/store.db`;
 *   - `postgres://USER:PASSWORD@HOST:PORT/DB[?schema=NAME]`: a PostgreSQL database shared by
 *     several people and CI (runs, metrics, registry, approvals, tokens, audit log).
 * It comes from the `MLOPS_STORE_URL` environment variable, else from `storeUrl` in the
 * workspace's `.mlops/config.json` (next to the token, never committed: the URL carries a
 * password). Every opener (daemon, in-process CLI reads) goes through here.
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';
import { openPostgresRegistryStore } from '../registry/postgres-registry-store';
import type { RegistryStore } from '../registry/registry-store';
import { openRegistryStore as openSqliteRegistryStore, registryFiles } from '../registry/sqlite-registry-store';
import { isPostgresUrl } from './postgres-connection';
import { openPostgresStore } from './postgres-store';
import { openSqliteStore } from './sqlite-store';
import type { Store } from './store';

export const STORE_URL_ENV = 'MLOPS_STORE_URL';

/** Where a workspace keeps its state: `.mlops/` and the workspace folder it belongs to. */
export interface WorkspaceState {
  /** `.mlops/` */
  dir: string;
  workspace: string;
}

/** The workspace's store URL, or undefined for the local SQLite file. */
export function configuredStoreUrl(mlopsDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[STORE_URL_ENV]?.trim();
  if (fromEnv) return checkUrl(fromEnv, STORE_URL_ENV);
  const fromFile = readConfig(mlopsDir).storeUrl;
  return fromFile === undefined ? undefined : checkUrl(fromFile, `storeUrl in ${path.join(mlopsDir, 'config.json')}`);
}

/** True when the workspace's runs live in a shared database (so no `.mlops/store.db` is needed to read them). */
export function usesSharedStore(mlopsDir: string): boolean {
  return configuredStoreUrl(mlopsDir) !== undefined;
}

export async function openStore(state: WorkspaceState): Promise<Store> {
  const url = configuredStoreUrl(state.dir);
  if (url === undefined) return openSqliteStore(state.dir);
  return openPostgresStore(url, { owner: storeOwner(state.workspace) });
}

export async function openRegistryStore(state: WorkspaceState): Promise<RegistryStore> {
  const url = configuredStoreUrl(state.dir);
  if (url === undefined) return openSqliteRegistryStore(state.dir);
  return openPostgresRegistryStore(url, registryFiles(state.dir).auditKey);
}

/** Who a shared store's runs and machine-local caches belong to: this machine's workspace folder. */
export function storeOwner(workspace: string): string {
  return `${hostname()}:${path.resolve(workspace)}`;
}

function checkUrl(url: string, where: string): string {
  if (isPostgresUrl(url)) return url;
  throw new MlopsError('BAD_REQUEST', `${where} must be a postgres:// URL (or unset for the local SQLite store), not "${url.replace(/:[^@/]*@/, ':***@')}"`);
}

/** `.mlops/config.json`: workspace settings that must not be committed. */
export interface WorkspaceConfig {
  storeUrl?: string;
  artifactsUrl?: string;
}

export function readConfig(mlopsDir: string): WorkspaceConfig {
  const file = path.join(mlopsDir, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new MlopsError('BAD_REQUEST', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MlopsError('BAD_REQUEST', `${file} must hold a JSON object such as {"storeUrl": "postgres://…"}`);
  const out: WorkspaceConfig = {};
  for (const k of ['storeUrl', 'artifactsUrl'] as const) {
    const v = (parsed as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new MlopsError('BAD_REQUEST', `${k} in ${file} must be a string`);
    out[k] = v;
  }
  return out;
}
