/**
 * Script entry of the model server process: `node model-server.js '<ModelServerOptions JSON>'`
 * (the options hold no secret; the token comes in env MLOPS_SERVING_TOKEN). Built to
 * dist/serving/model-server.js; tests run it from source through tsx.
 */
import type { ModelServerOptions } from '../../protocol/serving';
import { modelServerProcessMain } from './process-main';

const arg = process.argv[2];
let options: ModelServerOptions;
try {
  options = JSON.parse(arg ?? '') as ModelServerOptions;
} catch {
  process.stderr.write('usage: model-server \'{"deployment":"name","port":0,"auth":"token","dir":"/abs/dir"}\' (token in env MLOPS_SERVING_TOKEN)\n');
  process.exit(2);
}
void modelServerProcessMain(options);
