/**
 * Input checks for the tracking routes. Each throws `MlopsError('BAD_REQUEST')` with a
 * message that names the offending field, so a client author can fix the request from the
 * error alone. Limits follow MLflow's so code written against MLflow is accepted unchanged.
 */
import { MlopsError } from '../../protocol/errors';

export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
/** MLflow's rule for metric, param and tag names: letters, digits, `_ - . /` and spaces. */
const KEY_PATTERN = /^[\p{L}\p{N}_\-./ ]+$/u;

export function bad(field: string, problem: string): MlopsError {
  return new MlopsError('BAD_REQUEST', `${field} ${problem}`, { field });
}

export function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(field, 'must be a JSON object');
  return value as Record<string, unknown>;
}

export function array(value: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw bad(field, 'must be an array');
  if (value.length > max) throw bad(field, `has ${value.length} entries; at most ${max} are accepted per request`);
  return value;
}

export function string(value: unknown, field: string, maxLength = Infinity): string {
  if (typeof value !== 'string' || value === '') throw bad(field, 'must be a non-empty string');
  if (value.length > maxLength) throw bad(field, `is ${value.length} characters long; the limit is ${maxLength}`);
  return value;
}

export function optionalString(value: unknown, field: string, maxLength = Infinity): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : string(value, field, maxLength);
}

/** A metric, param or tag name. */
export function key(value: unknown, field: string): string {
  const k = string(value, field, MAX_KEY_LENGTH);
  if (!KEY_PATTERN.test(k) || k.split('/').includes('..') || k.startsWith('/')) {
    throw bad(field, `"${k}" may only contain letters, digits, underscores, dashes, periods, spaces and slashes`);
  }
  return k;
}

/**
 * A param or tag value. Numbers and booleans are stringified (MLflow stores strings and its
 * clients stringify too); objects are refused rather than guessed at.
 */
export function textValue(value: unknown, field: string, maxLength: number): string {
  if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
  if (typeof value !== 'string') throw bad(field, 'must be a string, number or boolean');
  if (value.length > maxLength) throw bad(field, `is ${value.length} characters long; the limit is ${maxLength}`);
  return value;
}

/**
 * A metric value: a JSON number, or the protobuf-JSON spellings "NaN", "Infinity" and
 * "-Infinity" (JSON has no literal for them; MLflow's own client sends these strings).
 * A numeric string is accepted too, as protobuf JSON parsers do.
 */
export function metricValue(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    const n = Number(value);
    if (value.trim() !== '' && Number.isFinite(n)) return n;
  }
  throw bad(field, 'must be a number (or "NaN", "Infinity", "-Infinity")');
}

/** An int64 field: a safe integer, or its decimal string (protobuf JSON encodes int64 as strings). */
export function integer(value: unknown, field: string, fallback?: number): number {
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw bad(field, 'must be an integer');
  return n;
}

/** A `Record<string, scalar>` of params or tags, checked key by key. */
export function keyValues(value: unknown, field: string, maxValueLength: number, maxEntries: number): Record<string, string> {
  const entries = Object.entries(object(value, field));
  if (entries.length > maxEntries) throw bad(field, `has ${entries.length} entries; at most ${maxEntries} are accepted per request`);
  return Object.fromEntries(entries.map(([k, v]) => [key(k, `${field} key`), textValue(v, `${field}.${k}`, maxValueLength)]));
}

/** A query-string integer within [min, max]. */
export function queryInteger(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(name, `must be an integer from ${min} to ${max}`);
  return n;
}

export function queryString(query: URLSearchParams, name: string): string {
  return string(query.get(name) ?? undefined, name);
}
