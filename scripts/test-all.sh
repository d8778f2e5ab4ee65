#!/usr/bin/env bash
# The one test command (npm test): set-up, build, type-check, unit + language-server tests,
# then the extension-host suite in a real VS Code (installed offline by setup-code-server.sh).
# Exit non-zero if any part fails; every runner prints its own summary.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
step() { echo; echo "=== $*"; }

step "install dependencies"
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund || exit 3

step "build (esbuild)"
node esbuild.mjs || exit 3

step "type-check (tsc -b, strict)"
npx --no-install tsc -b || status=1

step "PostgreSQL for the shared-store tests (Debian's package, a throwaway cluster on 127.0.0.1)"
if [ -z "${MLOPS_TEST_POSTGRES_URL:-}" ] && pg_env=$(bash scripts/start-test-postgres.sh start); then
  eval "$pg_env"
  trap 'bash scripts/start-test-postgres.sh stop "$MLOPS_TEST_POSTGRES_DIR"' EXIT
fi

step "unit and language-server tests (node:test)"
node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./scripts/summary-reporter.mjs --test-reporter-destination=stdout \
  test/unit/*.test.ts test/server/*.test.ts || status=1

step "VS Code for the extension-host tests (offline, idempotent)"
bash scripts/setup-code-server.sh || exit 3

step "extension-host tests in a real VS Code"
node scripts/run-host-tests.mjs || status=1

step "extension-host tests of sweeps on the weather sample"
VSCODE_TEST_WORKSPACE=examples/weather MLOPS_HOST_SUITE=sweeps node scripts/run-host-tests.mjs || status=1

step "extension-host tests of serving (deploy, canary under load, live monitor)"
MLOPS_HOST_SUITE=deployments node scripts/run-host-tests.mjs || status=1

step "extension-host tests of monitoring (shifted traffic -> alert in VS Code and at a webhook, drift report)"
MLOPS_HOST_SUITE=monitoring node scripts/run-host-tests.mjs || status=1

step "extension-host tests with Workspace Trust on and the folder untrusted"
VSCODE_TEST_UNTRUSTED=1 MLOPS_HOST_SUITE=untrusted node scripts/run-host-tests.mjs || status=1

step "package the .vsix and smoke-test the installed extension in a real VS Code"
node scripts/package-vsix.mjs --target linux-x64 --out dist/mlops-workbench-linux-x64.vsix && \
  node scripts/run-vsix-smoke.mjs dist/mlops-workbench-linux-x64.vsix || status=1

echo
[ $status -eq 0 ] && echo "ALL TESTS PASSED" || echo "SOME TESTS FAILED"
exit $status
