/**
 * SQLite schema, as an append-only list of scripts. Script i brings the database from
 * `PRAGMA user_version` i to i + 1; never edit a shipped script, add a new one instead.
 * A database whose user_version exceeds MIGRATIONS.length was written by a newer release
 * and is refused rather than guessed at.
 *
 * Conventions: ids are TEXT (32-hex run ids) except experiments (INTEGER, exposed as a
 * string, "0" = Default as in MLflow); times are INTEGER ms since the epoch; a NULL metric
 * value stands for NaN because SQLite stores NaN as NULL.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  -- MLflow clients that never set an experiment log into experiment "0".
  INSERT INTO experiments (id, name, created_at) VALUES (0, 'Default', CAST(unixepoch('now') AS INTEGER) * 1000);

  CREATE TABLE runs (
    id TEXT PRIMARY KEY NOT NULL,
    experiment_id INTEGER NOT NULL REFERENCES experiments (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pipeline', 'step', 'trial', 'sweep')),
    parent_id TEXT REFERENCES runs (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'skipped')),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    git_commit TEXT,
    git_dirty INTEGER,
    exit_code INTEGER,
    message TEXT
  );
  CREATE INDEX runs_by_experiment ON runs (experiment_id, started_at);
  CREATE INDEX runs_by_parent ON runs (parent_id, started_at);
  CREATE INDEX runs_by_status ON runs (status);

  CREATE TABLE params (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE tags (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;

  -- Full history; the explicit id keeps logging order for equal (step, timestamp), even
  -- across VACUUM (which may renumber implicit rowids).
  CREATE TABLE metrics (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value REAL,
    step INTEGER NOT NULL,
    timestamp INTEGER NOT NULL
  );
  CREATE INDEX metrics_by_run_key_step ON metrics (run_id, key, step);

  -- Maintained on write so listings and "order by metric" never scan the history.
  CREATE TABLE latest_metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value REAL,
    step INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, value);

  CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
  ) WITHOUT ROWID;

  CREATE TABLE dataset_hashes (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  ) WITHOUT ROWID;

  -- No foreign key to runs: outputs live in the content-addressed cache, so an entry stays
  -- useful after its run is deleted.
  CREATE TABLE step_cache (
    step_name TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    run_id TEXT NOT NULL,
    outs TEXT NOT NULL, -- JSON array of {path, hash, size}
    created_at INTEGER NOT NULL,
    PRIMARY KEY (step_name, fingerprint)
  ) WITHOUT ROWID;

  CREATE TABLE file_hashes (
    path TEXT PRIMARY KEY NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    ctime_ms REAL NOT NULL,
    ino INTEGER NOT NULL,
    hash TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2: model registry and governance (orchestrator/registry): models, versions, aliases and
  // their history, promotion requests, named tokens, the hash-chained audit log. Versions keep
  // no foreign key to runs: a registered model outlives the run it came from.
  `
  CREATE TABLE registered_models (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    next_version INTEGER NOT NULL DEFAULT 1
  ) WITHOUT ROWID;

  CREATE TABLE model_versions (
    model TEXT NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    artifact_path TEXT NOT NULL,
    artifact_hash TEXT NOT NULL,
    artifact_size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,      -- JSON object
    metrics TEXT NOT NULL,   -- JSON object; null stands for NaN
    signature TEXT,          -- JSON ModelSignature
    lineage TEXT NOT NULL,   -- JSON Lineage
    card TEXT NOT NULL,      -- markdown
    PRIMARY KEY (model, version)
  ) WITHOUT ROWID;

  CREATE TABLE model_aliases (
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (model, alias),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version) ON DELETE CASCADE
  ) WITHOUT ROWID;

  -- Every move of an alias, kept after the versions are gone (rollback reads it as a stack).
  CREATE TABLE alias_history (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER,
    previous INTEGER,
    action TEXT NOT NULL CHECK (action IN ('set', 'unset', 'rollback', 'promote')),
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    request_id INTEGER
  );
  CREATE INDEX alias_history_by_alias ON alias_history (model, alias, id);

  CREATE TABLE promotion_requests (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    alias TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    comment TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    required INTEGER NOT NULL,
    decided_at INTEGER
  );
  CREATE INDEX promotion_requests_by_model ON promotion_requests (model, status);

  CREATE TABLE request_decisions (
    request_id INTEGER NOT NULL REFERENCES promotion_requests (id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    at INTEGER NOT NULL,
    comment TEXT,
    PRIMARY KEY (request_id, actor)
  ) WITHOUT ROWID;

  -- Named tokens of team mode: only a sha256 of each secret is kept.
  CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'approver', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
  ) WITHOUT ROWID;

  -- Append-only; see orchestrator/registry/audit-chain.ts for the hash chain and its anchor.
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL
  );
  `,
  // 3: the ci role (tokens for CI jobs, the only ones that move ci_only_aliases). SQLite cannot
  // change a CHECK in place, so api_tokens is rebuilt with its rows (nothing references it).
  `
  CREATE TABLE api_tokens_v3 (
    name TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'ci', 'approver', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
  ) WITHOUT ROWID;
  INSERT INTO api_tokens_v3 (name, role, token_hash, created_at, created_by, last_used_at, revoked_at)
    SELECT name, role, token_hash, created_at, created_by, last_used_at, revoked_at FROM api_tokens;
  DROP TABLE api_tokens;
  ALTER TABLE api_tokens_v3 RENAME TO api_tokens;
  `,
];
