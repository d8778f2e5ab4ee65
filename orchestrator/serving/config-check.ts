/** Checks a ServingConfig before anything is loaded: a config the server refuses changes nothing. */
import type { ServingConfig } from '../../protocol/serving';

/** The problems with `config`, empty when it can be applied. */
export function configProblems(config: ServingConfig): string[] {
  const problems: string[] = [];
  if (!Array.isArray(config.versions) || config.versions.length === 0) return ['the config has no versions'];
  const seen = new Set<number>();
  let sum = 0;
  for (const v of config.versions) {
    const label = `version ${v.version}`;
    if (!Number.isInteger(v.version)) problems.push(`${JSON.stringify(v.version)} is not a version number`);
    if (seen.has(v.version)) problems.push(`${label} is listed twice`);
    seen.add(v.version);
    if (v.flavor !== 'onnx' && v.flavor !== 'command') problems.push(`${label}: unknown flavor "${String(v.flavor)}"`);
    if (v.flavor === 'command' && !v.command) problems.push(`${label}: flavor "command" needs a command`);
    if (!v.artifactPath) problems.push(`${label}: no artifactPath`);
    if (!(v.weight >= 0 && v.weight <= 100)) problems.push(`${label}: weight ${v.weight} is not between 0 and 100`);
    if (v.role === 'shadow' && v.weight !== 0) problems.push(`${label}: a shadow version takes no traffic (weight must be 0, not ${v.weight})`);
    if (v.role !== 'shadow') sum += v.weight;
  }
  if (Math.abs(sum - 100) > 1e-9) problems.push(`the weights of the non-shadow versions sum to ${sum}, not 100`);
  if (config.canary) {
    const c = config.versions.find((v) => v.version === config.canary!.version);
    if (!c || c.role !== 'canary') problems.push(`the canary policy names version ${config.canary.version}, which is not a canary in this config`);
  }
  if (config.threads !== undefined && !(Number.isInteger(config.threads) && config.threads > 0)) problems.push(`threads must be a positive integer, not ${config.threads}`);
  return problems;
}
