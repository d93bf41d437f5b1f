// Server-side sessions. The cookie carries only a random id; the row holds
// who it is, the CSRF token and the expiry. Expiry is sliding with a cap:
// each use pushes it to `idle` from now, but never past `absolute` from
// sign-in, so a forgotten tab ends and a stolen cookie cannot live forever.
import { randomBytes } from "node:crypto";
import { sha256 } from "../../infra/hash.ts";
import type { ConsoleStore } from "../store/index.ts";
import type { Principal, Role } from "./types.ts";

export interface SessionPolicy {
  /** A session unused this long ends (ms). */
  readonly idleMs: number;
  /** A session ends this long after sign-in whatever its use (ms). */
  readonly absoluteMs: number;
}

export interface Session {
  readonly principal: Principal;
  readonly csrf: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

const hashId = (id: string) => sha256(id, "base64url");
// Writing last_seen on every request would make reads write; a minute is finer than any idle limit.
const TOUCH_EVERY_MS = 60_000;

export class SessionStore {
  constructor(
    private readonly store: ConsoleStore,
    private readonly policy: SessionPolicy,
    private readonly now: () => number,
  ) {}

  /** A new session with a new id and CSRF token; `replacing` (the old cookie's id) ends, so every sign-in rotates the id. */
  create(principal: Principal, replacing?: string): { id: string; session: Session } {
    if (principal.via === "token") throw new Error("API tokens do not open sessions");
    const id = randomBytes(32).toString("base64url");
    const csrf = randomBytes(32).toString("base64url");
    const at = this.now();
    const expiresAt = Math.min(at + this.policy.idleMs, at + this.policy.absoluteMs);
    this.store.db.transaction(() => {
      if (replacing) this.store.db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(hashId(replacing));
      this.store.db
        .prepare("INSERT INTO sessions (id_hash, principal, role, via, csrf, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .run(hashId(id), principal.id, principal.role, principal.via, csrf, at, at, expiresAt);
    })();
    return { id, session: { principal, csrf, createdAt: at, expiresAt } };
  }

  /** The live session for a cookie value, its expiry slid forward; undefined when unknown or expired. */
  find(id: string): Session | undefined {
    const row = this.store.db.prepare("SELECT * FROM sessions WHERE id_hash = ?").get(hashId(id)) as SessionRow | undefined;
    if (!row) return undefined;
    const at = this.now();
    if (row.expires_at <= at) {
      this.store.db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(row.id_hash);
      return undefined;
    }
    let expiresAt = row.expires_at;
    if (at - row.last_seen >= TOUCH_EVERY_MS) {
      expiresAt = Math.min(at + this.policy.idleMs, row.created_at + this.policy.absoluteMs);
      this.store.db.prepare("UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id_hash = ?").run(at, expiresAt, row.id_hash);
    }
    return {
      principal: { id: row.principal, role: row.role, via: row.via },
      csrf: row.csrf,
      createdAt: row.created_at,
      expiresAt,
    };
  }

  end(id: string): void {
    this.store.db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(hashId(id));
  }

  /** Drops expired rows (run now and then; `find` also refuses them). */
  purge(): number {
    return this.store.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(this.now()).changes;
  }
}

interface SessionRow {
  id_hash: string;
  principal: string;
  role: Role;
  via: "password" | "oidc";
  csrf: string;
  created_at: number;
  last_seen: number;
  expires_at: number;
}
