/** Reading and writing `.mlops/daemon.json`. */
import * as fs from 'node:fs';
import type { DaemonInfo } from '../../protocol/api';

/** The daemon.json contents, or undefined when missing or unreadable (a crash can leave anything). */
export function readDaemonInfo(file: string): DaemonInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as DaemonInfo;
    return Number.isInteger(info.pid) && Number.isInteger(info.port) && typeof info.workspace === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a temp file and renames it over `file`, so readers see the old or the new content, never half. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** Removes daemon.json if it still describes the daemon with `pid`. */
export function removeDaemonInfo(file: string, pid: number): void {
  if (readDaemonInfo(file)?.pid === pid) fs.rmSync(file, { force: true });
}
