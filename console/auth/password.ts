// The organizer password. Hashed with scrypt from node:crypto rather than
// argon2: argon2 for Node is a native module (prebuilt N-API binaries), one
// more thing to build or download on the event host, while scrypt is in Node
// itself and is memory-hard too (RFC 7914). Parameters: one of OWASP's
// equivalent scrypt minimums, N=2^15, r=8, p=3 (32 MiB, where their first
// choice N=2^17 would take 128 MiB per sign-in on a small event host); a
// check costs well under a second, which a rate-limited sign-in affords.
import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { ConsoleStore } from "../store/index.ts";

const KEY = "organizer_password";
const LOG2N = 15;
const R = 8;
const P = 3;
const KEYLEN = 32;
export const MIN_PASSWORD_LENGTH = 12;

const derive = (password: string, salt: Buffer, log2n: number, r: number, p: number) =>
  new Promise<Buffer>((ok, fail) => {
    const options: ScryptOptions = { N: 2 ** log2n, r, p, maxmem: 256 * 1024 * 1024 };
    scrypt(password.normalize("NFC"), salt, KEYLEN, options, (error, key) => (error ? fail(error) : ok(key)));
  });

/** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url): the parameters travel with the hash, so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, LOG2N, R, P);
  return ["scrypt", LOG2N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, log2n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), Number(log2n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Why a password is refused, or undefined. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `the organizer password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  return undefined;
}

export interface PasswordChange {
  /** Sessions signed in with the old password, now ended. */
  readonly endedSessions: number;
}

/**
 * Sets the organizer password (behind `thon console passwd`). Ends every
 * session signed in with the password, so a leaked one stops working at once.
 */
export async function setOrganizerPassword(store: ConsoleStore, password: string): Promise<PasswordChange> {
  const problem = passwordProblem(password);
  if (problem) throw new Error(`${problem}. Fix: choose a longer one (a passphrase of a few words is fine).`);
  const hash = await hashPassword(password);
  return store.db.transaction(() => {
    store.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(KEY, hash);
    return { endedSessions: store.db.prepare("DELETE FROM sessions WHERE via = 'password'").run().changes };
  })();
}

export function storedPasswordHash(store: ConsoleStore): string | undefined {
  return (store.db.prepare("SELECT value FROM settings WHERE key = ?").get(KEY) as { value: string } | undefined)?.value;
}

export type PasswordSource =
  /** Set from THON_CONSOLE_PASSWORD on this start. */
  | { readonly source: "environment" }
  /** Set earlier (thon console passwd, or a previous start). */
  | { readonly source: "stored" }
  /** Made now, on the first start: the caller shows it once; it is not kept in clear anywhere. */
  | { readonly source: "generated"; readonly password: string };

/**
 * At console start: THON_CONSOLE_PASSWORD (an unattended start) wins and is
 * stored hashed; otherwise a stored password stays; otherwise one is made and
 * returned to be shown once. The value is never logged here.
 */
export async function ensureOrganizerPassword(store: ConsoleStore, env: NodeJS.ProcessEnv = process.env): Promise<PasswordSource> {
  const fromEnv = env.THON_CONSOLE_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== "") {
    const problem = passwordProblem(fromEnv);
    if (problem) throw new Error(`THON_CONSOLE_PASSWORD: ${problem}. Fix: set a longer value.`);
    const stored = storedPasswordHash(store);
    // The same value on every restart must not end everyone's sessions.
    if (!stored || !(await verifyPassword(fromEnv, stored))) await setOrganizerPassword(store, fromEnv);
    return { source: "environment" };
  }
  if (storedPasswordHash(store)) return { source: "stored" };
  // 20 characters from 31 without look-alikes (no i, l, o, 0, 1): 99 bits.
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const password = Array.from({ length: 20 }, () => alphabet[randomInt(alphabet.length)]).join("").replace(/(.{5})(?!$)/g, "$1-");
  await setOrganizerPassword(store, password);
  return { source: "generated", password };
}
