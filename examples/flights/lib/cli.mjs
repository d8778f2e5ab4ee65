// What every step shares at its edges: numeric flags with range checks, and
// one way to fail. A step that fails must exit non-zero with a message a
// person can act on (the orchestrator shows stderr in the run's log), not a
// stack trace from deep inside a helper.

/** An error whose message is meant for the user; printed without a stack. */
export class StepError extends Error {}

/**
 * Parse a numeric flag value (parseArgs gives strings).
 * @param {Record<string, string | boolean | undefined>} values parseArgs values
 * @param {string} name flag name without dashes
 * @param {{ default: number, min?: number, max?: number, integer?: boolean, exclusiveMin?: boolean }} spec
 */
export function numberFlag(values, name, spec) {
  const raw = values[name];
  if (raw === undefined) return spec.default;
  const value = Number(raw);
  const bad = (why) => new StepError(`--${name} ${why} (got ${JSON.stringify(raw)})`);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) throw bad('must be a number');
  if (spec.integer && !Number.isInteger(value)) throw bad('must be an integer');
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) {
    throw bad(`must be ${spec.exclusiveMin ? '>' : '>='} ${spec.min}`);
  }
  if (spec.max !== undefined && value > spec.max) throw bad(`must be <= ${spec.max}`);
  return value;
}

// Errors from Node or our helpers that are about the user's input, not a bug.
const USER_ERROR_CODES = new Set([
  'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
  'MLOPS_PACKAGE_NOT_FOUND', // lib/require-package.mjs
]);

/**
 * Run a step's main function; on failure print "<step>: error: ..." to
 * stderr and set a non-zero exit code. Unexpected errors keep their stack.
 * @param {string} step
 * @param {() => void | Promise<void>} main
 */
export async function runStep(step, main) {
  try {
    await main();
  } catch (err) {
    const known = err instanceof StepError || USER_ERROR_CODES.has(err?.code);
    process.stderr.write(`${step}: error: ${known ? err.message : err?.stack ?? err}\n`);
    process.exitCode = 1;
  }
}
