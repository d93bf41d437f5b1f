// The console's schema, one numbered step at a time. A step is never edited
// once released: a change is a new step, so every data folder can be brought
// from any earlier version to the current one.

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "sessions, API tokens, audit log, settings",
    sql: `
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      -- The id is the sha256 of the cookie value: a copy of the file does not
      -- hold a usable session.
      CREATE TABLE sessions (
        id_hash     TEXT PRIMARY KEY,
        principal   TEXT NOT NULL,
        role        TEXT NOT NULL CHECK (role IN ('organizer', 'viewer')),
        via         TEXT NOT NULL CHECK (via IN ('password', 'oidc')),
        csrf        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL
      );
      CREATE INDEX sessions_expires ON sessions (expires_at);
      CREATE TABLE api_tokens (
        id          TEXT PRIMARY KEY,
        hash        TEXT NOT NULL UNIQUE,
        name        TEXT NOT NULL,
        scope       TEXT NOT NULL CHECK (scope IN ('read', 'operate')),
        created_by  TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        last_used   INTEGER,
        revoked_at  INTEGER
      );
      CREATE TABLE audit_log (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT,
        input   TEXT,
        diff    TEXT,
        result  TEXT NOT NULL CHECK (result IN ('started', 'ok', 'error')),
        detail  TEXT
      );
      CREATE INDEX audit_at ON audit_log (at);
      CREATE INDEX audit_actor ON audit_log (actor, at);
      CREATE INDEX audit_action ON audit_log (action, at);
      -- An OAuth2/OIDC sign-in between the redirect and the callback: kept
      -- here so a console restart in between does not lose it.
      CREATE TABLE auth_flows (
        state       TEXT PRIMARY KEY,
        provider    TEXT NOT NULL,
        verifier    TEXT NOT NULL,
        nonce       TEXT,
        expires_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "usage snapshots (APISIX token counters per consumer and model)",
    sql: `
      -- APISIX keeps its counters in a shared dict that a restart empties;
      -- the instance marker (its start time or node id) tells a reset from a
      -- decrease, so totals can be summed across restarts.
      CREATE TABLE usage_snapshots (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        at                 INTEGER NOT NULL,
        consumer           TEXT NOT NULL,
        model              TEXT NOT NULL,
        prompt_tokens      INTEGER NOT NULL CHECK (prompt_tokens >= 0),
        completion_tokens  INTEGER NOT NULL CHECK (completion_tokens >= 0),
        apisix_instance    TEXT NOT NULL
      );
      CREATE INDEX usage_consumer_model_at ON usage_snapshots (consumer, model, at);
      CREATE INDEX usage_at ON usage_snapshots (at);
    `,
  },
  {
    version: 3,
    name: "idle parking: park records and keep-awake-until per participant",
    sql: `
      -- THON's record of whom it parked (docs/idle.md): the container id
      -- tells a parked container from one replaced since.
      CREATE TABLE idle_parked (
        user          TEXT PRIMARY KEY,
        at            INTEGER NOT NULL,
        reason        TEXT NOT NULL,
        container_id  TEXT NOT NULL
      );
      -- "Keep awake until": a click in the console, not thon.yaml.
      CREATE TABLE idle_keep_awake (
        user   TEXT PRIMARY KEY,
        until  INTEGER NOT NULL,
        set_by TEXT NOT NULL,
        set_at INTEGER NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
