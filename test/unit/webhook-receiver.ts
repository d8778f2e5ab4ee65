// A webhook receiver on 127.0.0.1 for the alert tests: it checks each POST's
// `X-Mlops-Signature` (HMAC-SHA256 of the body with the shared secret) on its own, not with
// the daemon's signing code, and keeps every alert event with whether its signature held.
// Shared by the CLI tests and the extension-host suite (bundled by esbuild), so it imports
// no test runner.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertEvent } from '../../protocol/monitoring';

export interface ReceivedWebhook {
  event: AlertEvent;
  /** The signature matched the secret; unsigned or wrongly signed posts got a 401. */
  verified: boolean;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT` + `pathname`: what the manifest's webhook rule should point at. */
  url(pathname: string): string;
  /** Every post so far, oldest first. */
  readonly received: ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      const got = Buffer.from(String(req.headers['x-mlops-signature'] ?? ''));
      const verified = got.length === want.length && timingSafeEqual(got, want);
      received.push({ event: JSON.parse(body.toString('utf8')) as AlertEvent, verified });
      res.writeHead(verified ? 200 : 401).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (pathname) => `http://127.0.0.1:${port}${pathname}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
