/**
 * The workspace's bearer token: 32 random bytes as hex in `.mlops/token`, mode 0600, so only
 * the user who owns the workspace can call the daemon (it listens on 127.0.0.1, which every
 * local user can reach).
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';

const TOKEN = /^[0-9a-f]{64}$/;

/**
 * Returns the token in `file`, creating it if missing and narrowing its mode to 0600 if it
 * is wider. Safe against a concurrent creator (the CLI and a daemon starting together):
 * the token is written to a private temp file and hard-linked into place, so a reader never
 * sees a half-written token and exactly one creator wins.
 */
export function ensureToken(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = readToken(file);
    if (existing) {
      fixMode(file);
      return existing;
    }
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    // 'wx' + 0o600: created private; the umask can only narrow it further.
    fs.writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Someone else created it first (or it exists but is malformed): loop and read theirs.
      if (!readToken(file)) fs.rmSync(file, { force: true });
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const token = readToken(file);
  if (!token) throw new MlopsError('INTERNAL', `could not create the token file ${file}`);
  fixMode(file);
  return token;
}

/** The token in `file`, or undefined when the file is missing or malformed. */
export function readToken(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const token = text.trim();
  return TOKEN.test(token) ? token : undefined;
}

/** Constant-time comparison of a presented token with the real one (hashing first equalises lengths). */
export function tokenMatches(presented: string, token: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function fixMode(file: string): void {
  if (process.platform === 'win32') return; // modes are not meaningful there; ACLs are inherited
  const mode = fs.statSync(file).mode & 0o777;
  if (mode !== 0o600) fs.chmodSync(file, 0o600);
}
