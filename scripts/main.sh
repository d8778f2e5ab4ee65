#!/usr/bin/env bash
# The main job (npm run main): on a fresh machine, install, build, then take the sample
# project end to end with the headless CLI: validate the manifest, run the pipeline (train a
# real classifier on the Palmer penguins, export ONNX, evaluate it with onnxruntime-node),
# print the run summary; run it again to show every step skipped from the cache; register the
# model from the run and move its staging alias (the manifest's accuracy gate is checked);
# serve it, score the held-out rows through the endpoint, export the pipeline to Argo.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
node esbuild.mjs
MLOPS="node $PWD/dist/cli/mlops.js"
cd examples/penguins
echo "== mlops validate"
$MLOPS validate
if $MLOPS run --help >/dev/null 2>&1; then
  echo "== mlops run (trains, exports ONNX, evaluates)"
  $MLOPS run
  echo "== mlops run again: unchanged steps are skipped"
  $MLOPS run
  echo "== mlops runs"
  $MLOPS runs --limit 5
  echo "== register the trained model and move the staging alias (the manifest's gate: accuracy >= 0.9)"
  RUN=$($MLOPS runs --limit 1 --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).runs[0].id))")
  VERSION=$($MLOPS models register penguins-classifier --run "$RUN" --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).version))")
  $MLOPS models alias "penguins-classifier@staging" "$VERSION"
  $MLOPS models versions penguins-classifier
  echo "== serve it: ONNX Runtime in a model server on 127.0.0.1 (workspace token required)"
  $MLOPS deploy penguins-api "$VERSION"
  echo "== batch predictions through the endpoint (Open Inference Protocol v2 and /predict are live too)"
  $MLOPS predict penguins-api --input data/prepared/test.csv --output .mlops/predictions.csv --keep id,species
  head -4 .mlops/predictions.csv
  $MLOPS deployments
  echo "== compile the same manifest to an Argo Workflow (validated against Argo's schema in the tests)"
  $MLOPS export argo --image node:20 -o .mlops/penguins.argo.yaml
  $MLOPS undeploy penguins-api
  $MLOPS daemon stop >/dev/null 2>&1 || true
fi
