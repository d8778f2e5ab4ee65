/**
 * Alert delivery to a webhook: the JSON body is POSTed with `X-Mlops-Signature:
 * sha256=<hex HMAC-SHA256 of the exact body bytes>` under the secret named by the rule's
 * `secret_env`, so a receiver can check who sent it. 5xx, 429 and network errors are retried
 * with exponential backoff (bounded attempts, each with a timeout); other 4xx are final.
 * Callers never await this on a serving path.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-mlops-signature';

export interface WebhookOptions {
  /** Attempts in all (default 5). */
  attempts?: number;
  /** First backoff; doubles each retry (default 500 ms). */
  backoffMs?: number;
  /** Per-attempt timeout (default 5 s). */
  timeoutMs?: number;
}

export interface WebhookResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Checks a URL can be a webhook target: http(s) only. Returns a message when it cannot. */
export function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `webhook URLs must be http or https, not ${u.protocol}`;
  return undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

export async function postWebhook(url: string, payload: unknown, secret: string | undefined, opts: WebhookOptions = {}): Promise<WebhookResult> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'mlops-workbench-alerts' };
  if (secret !== undefined) headers[SIGNATURE_HEADER] = signBody(secret, body);
  const attempts = Math.max(1, opts.attempts ?? 5);
  const backoff = opts.backoffMs ?? 500;
  let last: WebhookResult = { ok: false, attempts: 0 };
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(backoff * 2 ** (i - 1));
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 5000), redirect: 'error' });
      await res.arrayBuffer().catch(() => undefined);
      last = { ok: res.ok, attempts: i + 1, status: res.status, error: res.ok ? undefined : `HTTP ${res.status}` };
      if (res.ok) return last;
      if (res.status < 500 && res.status !== 429) return last; // the receiver refused this body: retrying cannot help
    } catch (err) {
      last = { ok: false, attempts: i + 1, error: (err as Error).message };
    }
  }
  return last;
}
