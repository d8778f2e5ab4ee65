/**
 * `mlops tokens create|list|revoke`: named tokens for team mode (admin only). The secret is
 * printed once, at creation; give it to its owner, who sets it as MLOPS_TOKEN.
 */
import type { Command } from 'commander';
import { EXIT, MlopsError } from '../../../protocol/errors';
import { ROLES } from '../../../protocol/registry';
import { isRole } from '../../registry/roles';
import { formatTime, table } from '../format';
import { runCommand, type Output } from '../output';
import { connectRegistry } from '../registry-access';
import { workspaceOf } from '../workspace-access';

export function addTokensCommands(program: Command, io: Output, cwd: string, setExit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => async (...args: A) => setExit(await runCommand(io, () => fn(...args)));
  const tokens = program.command('tokens').description('named tokens with roles (viewer, editor, ci, approver, admin) for team mode');

  tokens
    .command('create')
    .description('create a named token and print it once (only its hash is kept)')
    .argument('<name>', 'who it is for, e.g. alice; it becomes the actor of everything done with it')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--json', 'print {token, info} as JSON')
    .action(act(async (name: string, opts: { role: string; json?: boolean }) => {
      if (!isRole(opts.role)) throw new MlopsError('BAD_REQUEST', `--role must be one of ${ROLES.join(', ')} (got "${opts.role}")`);
      const { token, info } = await (await connectRegistry(workspaceOf(cwd))).createToken(name, opts.role);
      if (opts.json) io.json({ token, info });
      else {
        io.out(token);
        io.err(`created token "${info.name}" (${info.role}); it is shown only this once. Use it with: MLOPS_TOKEN=<token> mlops …`);
      }
      return EXIT.OK;
    }));

  tokens
    .command('list')
    .description('list named tokens (not their secrets)')
    .option('--json', 'print {tokens} as JSON')
    .action(act(async (opts: { json?: boolean }) => {
      const list = await (await connectRegistry(workspaceOf(cwd))).listTokens();
      if (opts.json) io.json({ tokens: list });
      else if (list.length === 0) io.out('no named tokens (the workspace token in .mlops/token is the owner, "local")');
      else {
        const rows = list.map((t) => [t.name, t.role, formatTime(t.createdAt), t.createdBy, t.lastUsedAt ? formatTime(t.lastUsedAt) : '-', t.revokedAt ? `revoked ${formatTime(t.revokedAt)}` : 'active']);
        for (const l of table(['NAME', 'ROLE', 'CREATED', 'BY', 'LAST USED', 'STATE'], rows)) io.out(l);
      }
      return EXIT.OK;
    }));

  tokens
    .command('revoke')
    .description('revoke a named token at once')
    .argument('<name>', 'token name')
    .action(act(async (name: string) => {
      await (await connectRegistry(workspaceOf(cwd))).revokeToken(name);
      io.out(`revoked token "${name}"`);
      return EXIT.OK;
    }));
}
