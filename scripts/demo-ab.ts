// `npm run demo:ab`: the A/B analysis of examples/flights end to end on this machine. Trains two
// versions of flights-delay (distance only; distance and departure hour), serves them 50/50,
// replays held-back flights from flights-200k as traffic with their true labels, and prints
// what `mlops monitor` says after 1,000 rows and after 60,000. Uses a temp copy of the sample
// and stops its daemon at the end.
import * as fs from 'node:fs';
import { stopWorkspaceDaemon } from '../test/unit/cli-harness';
import { REPO } from '../test/unit/deploy-support';
import { monitor, monitorText, replay, setUpAb, type AbSetup, type Replayed } from '../test/unit/flights-ab-support';

async function main(): Promise<void> {
  process.env.MLOPS_HOME ??= REPO;
  const say = (l: string) => console.log(l);
  let s: AbSetup | undefined;
  try {
    s = await setUpAb(say);
    const seen: Replayed = { rows: 0, byVersion: {} };
    for (const to of [1000, 60_000]) {
      await replay(s, seen.rows, to, seen);
      const m = await monitor(s);
      say(`\n== after ${to} rows (${to / 100} requests of 100 rows), labels sent with mlops feedback`);
      say(`verdict: ${m.ab?.verdict ?? 'no A/B yet'}`);
    }
    say('\n== mlops monitor flights-api');
    for (const l of await monitorText(s)) say(l);
  } finally {
    if (s) {
      await stopWorkspaceDaemon(s.ws);
      fs.rmSync(s.ws, { recursive: true, force: true });
    }
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
