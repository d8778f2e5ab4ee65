"""Log metrics, params and tags from a pipeline step to MLOps Workbench.

Standard library only, so it works in any Python 3.8+ environment a step runs in::

    import mlops_tracking as mt
    mt.log_param("lr", 0.05)
    for epoch in range(30):
        mt.log_metrics({"loss": loss, "val_auc": auc}, step=epoch)

The orchestrator gives each step MLOPS_TRACKING_URI (http://127.0.0.1:PORT), MLOPS_TOKEN and
MLOPS_RUN_ID. Without them (the script run by hand) every call is a no-op and one warning is
printed, so step code never needs an "am I tracked?" branch.

Calls only buffer: a background thread sends the buffer every couple of seconds, a full
buffer (1000 metric points) is sent at once, and whatever is left is sent at interpreter
exit. A failed send prints a warning and drops that batch: tracking must not kill training.
"""

import atexit
import json
import math
import os
import sys
import threading
import time
import urllib.error
import urllib.request

__all__ = ["log_metric", "log_metrics", "log_param", "log_params", "set_tag", "set_tags", "flush"]

BATCH_SIZE = 1000  # the server accepts up to 10 000 points per request
FLUSH_INTERVAL_S = 2.0
TIMEOUT_S = 10.0

_uri = os.environ.get("MLOPS_TRACKING_URI", "").rstrip("/")
_token = os.environ.get("MLOPS_TOKEN", "")
_run_id = os.environ.get("MLOPS_RUN_ID", "")
_enabled = bool(_uri and _token and _run_id)

_lock = threading.Lock()
_send_lock = threading.Lock()
_metrics = []
_params = {}
_tags = {}
_warned_disabled = False
_worker = None
_stop = threading.Event()
# The daemon is on 127.0.0.1: never route it through an HTTP(S)_PROXY from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def log_metric(key, value, step=None):
    """Record one metric value; `step` defaults to 0 on the server, as in MLflow."""
    if not _check_enabled():
        return
    point = {"key": str(key), "value": _encode_value(value), "timestamp": int(time.time() * 1000)}
    if step is not None:
        point["step"] = int(step)
    with _lock:
        _metrics.append(point)
        full = len(_metrics) >= BATCH_SIZE
    _ensure_worker()
    if full:
        flush()


def log_metrics(metrics, step=None):
    """Record several metrics at the same step, e.g. {"loss": 0.3, "acc": 0.9}."""
    for key, value in metrics.items():
        log_metric(key, value, step)


def log_param(key, value):
    """Record a parameter (stored as a string). Params cannot change once logged."""
    log_params({key: value})


def log_params(params):
    if not _check_enabled():
        return
    with _lock:
        _params.update({str(k): str(v) for k, v in params.items()})
    _ensure_worker()


def set_tag(key, value):
    """Set a tag on the run (stored as a string); a later value replaces an earlier one."""
    set_tags({key: value})


def set_tags(tags):
    if not _check_enabled():
        return
    with _lock:
        _tags.update({str(k): str(v) for k, v in tags.items()})
    _ensure_worker()


def flush():
    """Send everything buffered now. Safe to call from any thread, and when disabled."""
    if not _enabled:
        return
    with _send_lock:  # one sender at a time, so batches arrive in logging order
        with _lock:  # logging goes on into fresh buffers while this batch is sent
            params, tags, metrics = dict(_params), dict(_tags), list(_metrics)
            _params.clear()
            _tags.clear()
            del _metrics[:]
        if params:
            _post("/api/runs/log-params", {"runId": _run_id, "params": params})
        if tags:
            _post("/api/runs/set-tags", {"runId": _run_id, "tags": tags})
        for i in range(0, len(metrics), BATCH_SIZE):
            _post("/api/runs/log-metrics", {"runId": _run_id, "metrics": metrics[i : i + BATCH_SIZE]})


def _encode_value(value):
    value = float(value)  # raises at the call site for non-numbers, where the bug is
    if math.isnan(value):
        return "NaN"  # JSON has no NaN; the server reads protobuf-JSON spellings
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _post(path, payload):
    data = json.dumps(payload, allow_nan=False).encode("utf-8")
    req = urllib.request.Request(
        _uri + path,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + _token},
    )
    try:
        with _opener.open(req, timeout=TIMEOUT_S) as resp:
            resp.read()
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:500]
        _warn("POST %s failed with HTTP %s: %s" % (path, err.code, detail))
    except (urllib.error.URLError, OSError) as err:
        _warn("POST %s failed: %s" % (path, err))


def _warn(message):
    print("mlops_tracking: " + message, file=sys.stderr)


def _check_enabled():
    global _warned_disabled
    if not _enabled and not _warned_disabled:
        _warned_disabled = True
        _warn("MLOPS_TRACKING_URI, MLOPS_TOKEN or MLOPS_RUN_ID is not set; nothing will be recorded")
    return _enabled


def _ensure_worker():
    global _worker
    with _lock:
        if _worker is None:
            # A daemon thread: it must never keep a finished training script alive.
            _worker = threading.Thread(target=_flush_periodically, name="mlops-tracking", daemon=True)
            _worker.start()


def _flush_periodically():
    while not _stop.wait(FLUSH_INTERVAL_S):
        flush()


@atexit.register
def _flush_at_exit():
    _stop.set()
    flush()
