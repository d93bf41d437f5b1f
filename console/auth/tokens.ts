// API tokens for scripts. The token is 32 random bytes shown once; the store
// keeps its sha256. A fast hash is enough here (unlike for the password):
// with 256 bits of randomness there is nothing to guess, so slowing each
// request with scrypt would buy no security, and the hash stays indexable.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { sha256 } from "../../infra/hash.ts";
import type { ConsoleStore } from "../store/index.ts";

export type TokenScope = "read" | "operate";

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly lastUsed: string | null;
  readonly revokedAt: string | null;
}

const PREFIX = "thon_";
const hashToken = (token: string) => sha256(token);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const TOUCH_EVERY_MS = 60_000;

export class TokenStore {
  constructor(
    private readonly store: ConsoleStore,
    private readonly now: () => number,
  ) {}

  /** Makes a token; `token` is the only time the secret is seen. */
  create(input: { name: string; scope: TokenScope; createdBy: string }): { token: string; info: TokenInfo } {
    const id = randomBytes(6).toString("hex");
    const token = PREFIX + randomBytes(32).toString("base64url");
    const at = this.now();
    this.store.db
      .prepare("INSERT INTO api_tokens (id, hash, name, scope, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(id, hashToken(token), input.name, input.scope, input.createdBy, at);
    return { token, info: this.get(id)! };
  }

  /** The live token for a presented secret; undefined when unknown or revoked. */
  verify(token: string): TokenInfo | undefined {
    if (!token.startsWith(PREFIX)) return undefined;
    const hash = hashToken(token);
    const row = this.store.db.prepare("SELECT * FROM api_tokens WHERE hash = ?").get(hash) as TokenRow | undefined;
    // The lookup is by hash, so timing says nothing of the token; compare anyway to be plain about it.
    if (!row || !timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash)) || row.revoked_at !== null) return undefined;
    const at = this.now();
    if (row.last_used === null || at - row.last_used >= TOUCH_EVERY_MS) {
      this.store.db.prepare("UPDATE api_tokens SET last_used = ? WHERE id = ?").run(at, row.id);
      row.last_used = at;
    }
    return toInfo(row);
  }

  get(id: string): TokenInfo | undefined {
    const row = this.store.db.prepare("SELECT * FROM api_tokens WHERE id = ?").get(id) as TokenRow | undefined;
    return row && toInfo(row);
  }

  /** Every token, newest first, without secrets or hashes. */
  list(): TokenInfo[] {
    return (this.store.db.prepare("SELECT * FROM api_tokens ORDER BY created_at DESC, id").all() as TokenRow[]).map(toInfo);
  }

  /** Revokes a token; false when there is no such token. Revoking twice keeps the first time. */
  revoke(id: string): boolean {
    const found = this.get(id);
    if (!found) return false;
    this.store.db.prepare("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?").run(this.now(), id);
    return true;
  }
}

interface TokenRow {
  id: string;
  hash: string;
  name: string;
  scope: TokenScope;
  created_by: string;
  created_at: number;
  last_used: number | null;
  revoked_at: number | null;
}

const toInfo = (row: TokenRow): TokenInfo => ({
  id: row.id,
  name: row.name,
  scope: row.scope,
  createdBy: row.created_by,
  createdAt: iso(row.created_at)!,
  lastUsed: iso(row.last_used),
  revokedAt: iso(row.revoked_at),
});
