import { EXIT, exitCodeFor, MlopsError } from '../../protocol/errors';

/** Where CLI commands write; tests capture it. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  json(value: unknown): void;
}

export const stdio: Output = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  json: (v) => process.stdout.write(JSON.stringify(v, null, 2) + '\n'),
};

/** Runs a command body; expected failures print one line and map to the documented exit codes. */
export async function runCommand(io: Output, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof MlopsError) {
      io.err(`mlops: ${e.message}`);
      return exitCodeFor(e);
    }
    io.err(`mlops: internal error: ${(e as Error)?.stack ?? e}`);
    return EXIT.INFRA;
  }
}
