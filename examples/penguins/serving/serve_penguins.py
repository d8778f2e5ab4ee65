#!/usr/bin/env python3
"""Penguin species model as a `command` flavor model server process (Python stdlib only).

MLOps Workbench starts this once per deployed version and keeps it running. It speaks JSON
lines: one request per line on stdin,

    {"id": "7", "columns": ["bill_length_mm", ...], "rows": [[39.1, 18.7, ...], ...]}

and one answer per line on stdout, in any order, matched by id:

    {"id": "7", "predictions": ["Adelie", ...]}      or      {"id": "7", "error": "...", "status": 400}

The model is the JSON copy of the trained softmax regression (models/penguins.json, written by
steps/train.mjs): p = softmax(((x - mean) / std) . W + b). MLOPS_MODEL_PATH names that file
(or a folder holding penguins.json). Columns are matched by name when they are the model's
features, in any order; otherwise rows are taken in feature order. The process exits at the end
of its input, which is how the server stops it.
"""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def model_path():
    path = os.environ.get("MLOPS_MODEL_PATH") or os.path.join(HERE, "..", "models", "penguins.json")
    return os.path.join(path, "penguins.json") if os.path.isdir(path) else path


def load_model(path):
    with open(path, encoding="utf-8") as f:
        model = json.load(f)
    if model.get("format") != "mlops-workbench/softmax-regression@1":
        raise SystemExit(f"{path}: not a softmax-regression model (format {model.get('format')!r})")
    return model


class BadInput(Exception):
    """The request is wrong (answered with status 400), as opposed to the model failing."""


def predict(model, columns, rows):
    features = model["features"]
    if columns and sorted(columns) == sorted(features):
        order = [columns.index(name) for name in features]
    else:
        order = list(range(len(features)))
    mean, std, weights, bias, classes = model["mean"], model["std"], model["weights"], model["bias"], model["classes"]
    out = []
    for i, row in enumerate(rows):
        if len(row) != len(features):
            raise BadInput(f"row {i} has {len(row)} values, the model takes {len(features)} ({', '.join(features)})")
        logits = list(bias)
        for j, at in enumerate(order):
            value = row[at]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadInput(f"row {i}, feature {features[j]!r}: {value!r} is not a number")
            z = (value - mean[j]) / std[j]
            for k, w in enumerate(weights[j]):
                logits[k] += z * w
        # argmax of the logits is the argmax of the softmax: no exp needed for the label.
        best = max(range(len(logits)), key=lambda k: logits[k])
        out.append(classes[best])
    return out


def answer(model, line):
    try:
        request = json.loads(line)
    except json.JSONDecodeError as err:
        return {"id": None, "error": f"not JSON: {err}", "status": 400}
    rid = request.get("id")
    try:
        return {"id": rid, "predictions": predict(model, request.get("columns") or [], request.get("rows") or [])}
    except BadInput as err:
        return {"id": rid, "error": str(err), "status": 400}
    except Exception as err:  # the model failed: the server answers 500 and counts it
        return {"id": rid, "error": f"{type(err).__name__}: {err}"}


def main():
    model = load_model(model_path())
    print(f"serve_penguins: loaded {model_path()} ({len(model['features'])} features, classes {model['classes']})", file=sys.stderr)
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(model, line)) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
