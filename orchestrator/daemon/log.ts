/**
 * The daemon's log: one line per entry, appended synchronously to `.mlops/daemon.log` so the
 * last words before a crash are on disk. The launcher also sends the daemon's stdout and
 * stderr there (uncaught errors, native crashes).
 */
import * as fs from 'node:fs';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

/** Rotate once at start-up past this size: daemon.log → daemon.log.1. */
const ROTATE_BYTES = 10 * 1024 * 1024;

export function fileLogger(file: string): Logger {
  try {
    if (fs.statSync(file).size > ROTATE_BYTES) fs.renameSync(file, `${file}.1`);
  } catch {
    // no log yet
  }
  const write = (level: string, message: string) => {
    try {
      fs.appendFileSync(file, `${new Date().toISOString()} ${level} [${process.pid}] ${message}\n`);
    } catch {
      // Logging must never take the daemon down (disk full, folder removed under us).
    }
  };
  return {
    info: (m) => write('INFO ', m),
    warn: (m) => write('WARN ', m),
    error: (m, err) => write('ERROR', err === undefined ? m : `${m}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
