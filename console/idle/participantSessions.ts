// The participant's own session for /me: separate from the organizers'
// (another cookie, another path, no role), in memory because it only ever
// reads the participant's own sandbox and a console restart costs a sign-in.
// The cookie holds a random token; the map is keyed by its SHA-256.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const PARTICIPANT_COOKIE = "thon_me";

export interface ParticipantSession {
  readonly user: string;
  readonly csrf: string;
  readonly expires: number;
}

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

export class ParticipantSessions {
  private readonly sessions = new Map<string, ParticipantSession>();
  constructor(
    private readonly ttlMs = 12 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session for `user`: the cookie value and the session. */
  create(user: string): { token: string; session: ParticipantSession } {
    this.prune();
    const token = randomBytes(32).toString("base64url");
    const session = { user, csrf: randomBytes(24).toString("base64url"), expires: this.now() + this.ttlMs };
    this.sessions.set(hash(token), session);
    return { token, session };
  }

  get(token: string | undefined): ParticipantSession | undefined {
    if (!token) return undefined;
    const s = this.sessions.get(hash(token));
    if (!s || s.expires <= this.now()) return undefined;
    return s;
  }

  end(token: string | undefined): void {
    if (token) this.sessions.delete(hash(token));
  }

  /** Is `given` the session's CSRF token? Constant time. */
  static csrfOk(session: ParticipantSession, given: string | undefined): boolean {
    if (!given) return false;
    const a = Buffer.from(session.csrf);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private prune(): void {
    const now = this.now();
    for (const [k, s] of this.sessions) if (s.expires <= now) this.sessions.delete(k);
  }
}
