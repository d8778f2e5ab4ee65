/**
 * `mlops models …`: register versions from runs, list and show them, move aliases (gates and
 * approvals permitting), request/approve/reject promotions, roll aliases back, read history
 * and model cards. Changes go through the daemon as the caller's token; reads also work
 * without a daemon.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { EXIT, MlopsError } from '../../../protocol/errors';
import type { RequestStatus } from '../../../protocol/registry';
import { parseAliasRef, parseModelRef, parseVersion } from '../../registry/refs';
import { runCommand, type Output } from '../output';
import { connectRegistry, openRegistryReader } from '../registry-access';
import { openReader, resolveRunId, workspaceOf } from '../workspace-access';
import { printGates, printHistory, printModel, printModels, printVersion, printVersions, requestRows } from './models-print';

type Json = { json?: boolean };

export function addModelsCommands(program: Command, io: Output, cwd: string, setExit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => async (...args: A) => setExit(await runCommand(io, () => fn(...args)));
  const models = program.command('models').description('the model registry: versions, aliases, gates, approvals, history, model cards');

  models
    .command('register')
    .description("register a new version of NAME from a run's artifact (copied into the content-addressed cache)")
    .argument('<name>', 'model name (a manifest `models:` entry gives the defaults)')
    .requiredOption('--run <run>', 'source run: a pipeline run or a step run (id or unique prefix)')
    .option('--artifact <path>', "the model file, as the run recorded it (default: the manifest's models.NAME.artifact)")
    .option('--description <text>', 'description (default: the manifest\'s)')
    .option('--tag <key=value>', 'a tag (repeatable)', collect)
    .option('--json', 'print the version as JSON')
    .action(act(async (name: string, opts: Json & { run: string; artifact?: string; description?: string; tag?: string[] }) => {
      const ws = workspaceOf(cwd);
      const reader = await openReader(ws);
      let runId: string;
      try {
        runId = await resolveRunId(reader, opts.run);
      } finally {
        await reader.close();
      }
      const reg = await connectRegistry(ws);
      const v = await reg.register({
        model: name, runId,
        ...(opts.artifact ? { artifact: opts.artifact } : {}),
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.tag?.length ? { tags: keyValues(opts.tag) } : {}),
      });
      if (opts.json) io.json(v);
      else {
        io.out(`registered ${v.model} v${v.version} (models:/${v.model}/${v.version}) from run ${v.runId.slice(0, 8)}: ${v.artifact.path} sha256 ${v.artifact.hash.slice(0, 12)}`);
        if (v.signature) io.out(`signature: ${v.signature.inputs.map((t) => `${t.name} ${t.type} [${t.shape?.join(', ') ?? '?'}]`).join(', ')} → ${v.signature.outputs.map((t) => `${t.name} ${t.type} [${t.shape?.join(', ') ?? '?'}]`).join(', ')}`);
      }
      return EXIT.OK;
    }));

  models
    .command('list')
    .description('list registered models with their aliases')
    .option('--json', 'print {models} as JSON')
    .action(act(async (opts: Json) => withReader(cwd, async (r) => {
      const list = await r.listModels();
      if (opts.json) io.json({ models: list });
      else printModels(io, list);
      return EXIT.OK;
    })));

  models
    .command('show')
    .description('show a model (NAME) or one version (models:/NAME/3, NAME@ALIAS, NAME/3): metrics, signature, lineage')
    .argument('<ref>', 'NAME, NAME/VERSION, NAME@ALIAS or models:/…')
    .option('--json', 'print as JSON')
    .action(act(async (ref: string, opts: Json) => withReader(cwd, async (r) => {
      const parsed = parseModelRef(ref);
      if ('latest' in parsed && !/\/latest$/.test(ref)) {
        const m = await r.getModel(parsed.model);
        if (opts.json) io.json(m);
        else printModel(io, m.model, m.versions);
      } else {
        const v = await r.getVersion(ref);
        if (opts.json) io.json(v);
        else printVersion(io, v);
      }
      return EXIT.OK;
    })));

  models
    .command('resolve')
    .description('print the version a reference resolves to (models:/NAME@ALIAS → models:/NAME/3)')
    .argument('<ref>', 'NAME@ALIAS, NAME/VERSION, NAME or models:/…')
    .option('--json', 'print {ref, model, version, artifact} as JSON')
    .action(act(async (ref: string, opts: Json) => withReader(cwd, async (r) => {
      const v = await r.getVersion(ref);
      const out = { ref, model: v.model, version: v.version, uri: `models:/${v.model}/${v.version}`, artifact: v.artifact };
      if (opts.json) io.json(out);
      else io.out(`${out.uri}  ${v.artifact.path}  sha256 ${v.artifact.hash}`);
      return EXIT.OK;
    })));

  models
    .command('versions')
    .description("list a model's versions, newest first")
    .argument('<name>', 'model name')
    .option('--json', 'print {versions} as JSON')
    .action(act(async (name: string, opts: Json) => withReader(cwd, async (r) => {
      const { versions } = await r.getModel(name);
      if (opts.json) io.json({ versions });
      else printVersions(io, versions);
      return EXIT.OK;
    })));

  models
    .command('delete')
    .description('delete a version (NAME/3) or a whole model (NAME); refused while an alias points at it (admin)')
    .argument('<ref>', 'NAME or NAME/VERSION')
    .action(act(async (ref: string) => {
      const parsed = parseModelRef(ref);
      if ('alias' in parsed) throw new MlopsError('BAD_REQUEST', 'delete takes NAME or NAME/VERSION, not an alias');
      const reg = await connectRegistry(workspaceOf(cwd));
      const { deleted } = await reg.deleteModel(parsed.model, 'version' in parsed ? parsed.version : undefined);
      io.out(`deleted ${deleted}`);
      return EXIT.OK;
    }));

  models
    .command('gates')
    .description('check the gates for pointing NAME@ALIAS at VERSION, without moving it; exit 1 if one fails')
    .argument('<name@alias>', 'e.g. penguins-classifier@production')
    .argument('<version>', 'version number')
    .option('--json', 'print the gate report as JSON')
    .action(act(async (target: string, version: string, opts: Json) => withReader(cwd, async (r) => {
      const { model, alias } = parseAliasRef(target);
      const report = await r.checkGates(model, parseVersion(version), alias);
      if (opts.json) io.json(report);
      else printGates(io, report);
      return report.passed ? EXIT.OK : EXIT.CHECK_FAILED;
    })));

  models
    .command('alias')
    .description('point NAME@ALIAS at VERSION once its gates pass; a protected alias needs approvals (see request)')
    .argument('<name@alias>', 'e.g. penguins-classifier@staging')
    .argument('<version>', 'version number')
    .option('--json', 'print {event, gates} as JSON')
    .action(act(async (target: string, version: string, opts: Json) => {
      const { model, alias } = parseAliasRef(target);
      const reg = await connectRegistry(workspaceOf(cwd));
      try {
        const res = await reg.setAlias(model, alias, parseVersion(version));
        if (opts.json) io.json(res);
        else if (!res.event) io.out(`${model}@${alias} already points at v${version}`);
        else {
          io.out(`${model}@${alias}: ${res.event.previous === undefined ? '(unset)' : `v${res.event.previous}`} → v${res.event.version}`);
          if (res.gates.checks.length) printGates(io, res.gates);
        }
        return EXIT.OK;
      } catch (e) {
        return jsonFailure(io, e, opts);
      }
    }));

  models
    .command('unalias')
    .description('remove an alias (a protected one needs the approver role)')
    .argument('<name@alias>', 'e.g. penguins-classifier@staging')
    .option('--json', 'print the alias move as JSON')
    .action(act(async (target: string, opts: Json) => {
      const { model, alias } = parseAliasRef(target);
      const e = await (await connectRegistry(workspaceOf(cwd))).unsetAlias(model, alias);
      if (opts.json) io.json(e);
      else io.out(`${model}@${alias}: v${e.previous} → (unset)`);
      return EXIT.OK;
    }));

  models
    .command('rollback')
    .description('move NAME@ALIAS back to its previous holder (from the alias history)')
    .argument('<name@alias>', 'e.g. penguins-classifier@production')
    .option('--json', 'print the alias move as JSON')
    .action(act(async (target: string, opts: Json) => {
      const { model, alias } = parseAliasRef(target);
      const e = await (await connectRegistry(workspaceOf(cwd))).rollback(model, alias);
      if (opts.json) io.json(e);
      else io.out(`rolled back ${model}@${alias}: v${e.previous} → v${e.version}`);
      return EXIT.OK;
    }));

  models
    .command('history')
    .description('who moved an alias (or every alias of NAME) to which version, when, and from which')
    .argument('<name[@alias]>', 'e.g. penguins-classifier@production')
    .option('--json', 'print {events} as JSON (newest first)')
    .action(act(async (target: string, opts: Json) => withReader(cwd, async (r) => {
      const ref = parseModelRef(target);
      const events = await r.history(ref.model, 'alias' in ref ? ref.alias : undefined);
      if (opts.json) io.json({ events });
      else printHistory(io, events);
      return EXIT.OK;
    })));

  /**
   * The promotion verbs share one shape: NAME@ALIAS VERSION [-m text] [--json], a call on the
   * registry, then JSON or one line; with --json a refusal prints as JSON too.
   */
  type Reg = Awaited<ReturnType<typeof connectRegistry>>;
  type Ref = { model: string; alias: string; version: number };
  const promotion = <R>(name: string, description: string, messageHelp: string | undefined, jsonHelp: string, call: (reg: Reg, ref: Ref, message: string | undefined) => Promise<R>, say: (r: R, ref: Ref) => string[]) => {
    const cmd = models.command(name).description(description).argument('<name@alias>', 'e.g. penguins-classifier@production').argument('<version>', 'version number');
    if (messageHelp) cmd.option('-m, --message <text>', messageHelp);
    cmd.option('--json', jsonHelp).action(
      act(async (target: string, version: string, opts: Json & { message?: string }) => {
        const ref = { ...parseAliasRef(target), version: parseVersion(version) };
        const reg = await connectRegistry(workspaceOf(cwd));
        try {
          const r = await call(reg, ref, opts.message);
          if (opts.json) io.json(r);
          else for (const line of say(r, ref)) io.out(line);
          return EXIT.OK;
        } catch (e) {
          return jsonFailure(io, e, opts);
        }
      }),
    );
  };

  promotion('request', 'ask for NAME@ALIAS to move to VERSION (a protected alias); checks the gates first', 'why', 'print the request as JSON',
    (reg, { model, alias, version }, message) => reg.requestPromotion(model, alias, version, message),
    (r, { model, alias }) => [`request #${r.id}: ${model}@${alias} → v${r.version} by ${r.requestedBy}, needs ${r.required} approval${r.required === 1 ? '' : 's'} from someone else (mlops models approve ${model}@${alias} ${r.version})`]);

  promotion('approve', 'approve the pending request for NAME@ALIAS → VERSION (not your own); the last approval needed moves the alias', 'comment', 'print {request, event} as JSON',
    (reg, ref, message) => reg.approve(ref, message),
    (res, { model, alias }) => [
      `approved request #${res.request.id} (${res.request.approvals.length} of ${res.request.required})`,
      ...(res.event ? [`${model}@${alias}: ${res.event.previous === undefined ? '(unset)' : `v${res.event.previous}`} → v${res.event.version}`] : []),
      // A ci_only_aliases alias waits for CI to apply the approved request.
      ...(!res.event && res.request.status === 'approved' ? [`${model}@${alias} moves when CI applies it: mlops models alias ${model}@${alias} ${res.request.version} with a ci token`] : []),
    ]);

  promotion('reject', 'reject the pending request for NAME@ALIAS → VERSION', 'why', 'print the request as JSON',
    (reg, ref, message) => reg.reject(ref, message),
    (r, { model, alias }) => [`rejected request #${r.id}: ${model}@${alias} → v${r.version}`]);

  promotion('cancel-request', 'withdraw your pending request for NAME@ALIAS → VERSION', undefined, 'print the request as JSON',
    (reg, ref) => reg.cancelRequest(ref),
    (r) => [`withdrew request #${r.id}`]);

  models
    .command('requests')
    .description('list promotion requests (pending ones unless --all or --status)')
    .argument('[name]', 'only this model')
    .option('--status <status>', 'pending, approved, rejected or cancelled')
    .option('--all', 'every request')
    .option('--json', 'print {requests} as JSON')
    .action(act(async (name: string | undefined, opts: Json & { status?: string; all?: boolean }) => withReader(cwd, async (r) => {
      const status = opts.all ? undefined : ((opts.status ?? 'pending') as RequestStatus);
      const requests = await r.listRequests({ ...(name ? { model: name } : {}), ...(status ? { status } : {}) });
      if (opts.json) io.json({ requests });
      else if (requests.length === 0) io.out(`no ${status ?? ''} requests`.replace('  ', ' '));
      else for (const l of requestRows(requests)) io.out(l);
      return EXIT.OK;
    })));

  models
    .command('card')
    .description("print a version's model card (markdown), or replace it with --file")
    .argument('<ref>', 'NAME/VERSION, NAME@ALIAS or NAME (latest)')
    .option('--file <file>', 'replace the card with this markdown file')
    .action(act(async (ref: string, opts: { file?: string }) => {
      if (opts.file) {
        const text = fs.readFileSync(path.resolve(cwd, opts.file), 'utf8');
        const v = await withReader(cwd, (r) => r.getVersion(ref));
        await (await connectRegistry(workspaceOf(cwd))).setCard(v.model, v.version, text);
        io.out(`updated the card of ${v.model} v${v.version}`);
        return EXIT.OK;
      }
      const v = await withReader(cwd, (r) => r.getVersion(ref));
      io.out(v.card.trimEnd());
      return EXIT.OK;
    }));
}

async function withReader<T>(cwd: string, fn: (r: Awaited<ReturnType<typeof openRegistryReader>>['reads']) => Promise<T>): Promise<T> {
  const reader = await openRegistryReader(workspaceOf(cwd));
  try {
    return await fn(reader.reads);
  } finally {
    await reader.close();
  }
}

/** With --json, a refused move prints its error (and the gate report) as JSON; otherwise the error goes to runCommand. */
function jsonFailure(io: Output, e: unknown, opts: Json): number {
  if (!opts.json || !(e instanceof MlopsError)) throw e;
  io.json(e.toJSON());
  return e.code === 'GATE_FAILED' || e.code === 'FORBIDDEN' || e.code === 'CONFLICT' ? EXIT.CHECK_FAILED : EXIT.USAGE;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function keyValues(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf('=');
      if (at <= 0) throw new MlopsError('BAD_REQUEST', `--tag ${p}: write KEY=VALUE`);
      return [p.slice(0, at), p.slice(at + 1)];
    }),
  );
}
