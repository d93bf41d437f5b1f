import { afterEach, describe, expect, it, vi } from "vitest";
import { WakeGate } from "../../console/idle/wakeGate.ts";
import { WakeQueue } from "../../console/idle/wakeQueue.ts";

const PASSWORDS = new Map([
  ["alice", "Alice-password-0123456789"],
  ["bob", "Bob-password-9876543210xy"],
]);

describe("wake queue", () => {
  it("runs at most `concurrency` wakes at once, in arrival order, and all finish", async () => {
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const queue = new WakeQueue({
      concurrency: 3,
      wake: async (user) => {
        running++;
        peak = Math.max(peak, running);
        order.push(user);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return user.toUpperCase();
      },
    });
    const users = Array.from({ length: 20 }, (_, i) => `u${String(i).padStart(2, "0")}`);
    const results = await Promise.all(users.map((u) => queue.request(u)));
    expect(results).toEqual(users.map((u) => u.toUpperCase()));
    expect(peak).toBe(3);
    expect(order).toEqual(users);
    expect(queue.stats).toEqual({ waiting: 0, running: 0 });
  });

  it("de-duplicates per participant: a second request joins the first", async () => {
    const wake = vi.fn(async (user: string) => user);
    const queue = new WakeQueue({ concurrency: 1, wake });
    const [a, b, c] = await Promise.all([queue.request("alice"), queue.request("alice"), queue.request("bob")]);
    expect([a, b, c]).toEqual(["alice", "alice", "bob"]);
    expect(wake.mock.calls.map((c) => c[0])).toEqual(["alice", "bob"]);
    // Once settled, a later wake runs again.
    await queue.request("alice");
    expect(wake).toHaveBeenCalledTimes(3);
  });

  it("tells a waiting participant their place, and passes a failure to every waiter without stalling the queue", async () => {
    let release!: () => void;
    const queue = new WakeQueue({
      concurrency: 1,
      wake: (user) => (user === "first" ? new Promise<string>((r) => (release = () => r(user))) : user === "bad" ? Promise.reject(new Error("bad: code-server did not answer")) : Promise.resolve(user)),
    });
    const first = queue.request("first");
    const bad1 = queue.request("bad");
    const bad2 = queue.request("bad");
    const last = queue.request("last");
    expect(queue.position("bad")).toBe(0);
    expect(queue.position("last")).toBe(1);
    expect(queue.stats).toEqual({ waiting: 2, running: 1 });
    release();
    await expect(first).resolves.toBe("first");
    await expect(bad1).rejects.toThrow("did not answer");
    await expect(bad2).rejects.toThrow("did not answer");
    await expect(last).resolves.toBe("last");
  });

  it("refuses a concurrency below 1", () => {
    expect(() => new WakeQueue({ concurrency: 0, wake: async () => 0 })).toThrow(/concurrency must be a whole number of at least 1, got 0/);
  });
});

describe("wake gate: the password check", () => {
  afterEach(() => vi.restoreAllMocks());
  const gate = (now = () => 0) => new WakeGate({ getPasswords: async () => PASSWORDS, perUser: 3, perClient: 5, windowSeconds: 600, now });

  it("opens a participant's sandbox with their own password only", async () => {
    const g = gate();
    expect(await g.check("alice", "Alice-password-0123456789", "10.0.0.1")).toEqual({ ok: true });
    expect(await g.check("bob", "Alice-password-0123456789", "10.0.0.1")).toEqual({ ok: false, reason: "wrong-password" });
    expect(await g.check("alice", "Bob-password-9876543210xy", "10.0.0.1")).toEqual({ ok: false, reason: "wrong-password" });
  });

  it("answers an unknown participant like a wrong password", async () => {
    expect(await gate().check("mallory", "anything", "10.0.0.1")).toEqual({ ok: false, reason: "wrong-password" });
  });

  it("rate-limits wrong passwords per participant, even the right one after, until the window passes", async () => {
    let t = 0;
    const g = gate(() => t);
    for (let i = 0; i < 3; i++) expect((await g.check("alice", `guess-${i}`, `10.0.0.${i}`)).ok).toBe(false);
    expect(await g.check("alice", "Alice-password-0123456789", "10.0.0.9")).toEqual({ ok: false, reason: "rate-limited", retryAfterSeconds: 600 });
    // Others are not affected.
    expect(await g.check("bob", "Bob-password-9876543210xy", "10.0.0.9")).toEqual({ ok: true });
    t = 601_000;
    expect(await g.check("alice", "Alice-password-0123456789", "10.0.0.9")).toEqual({ ok: true });
  });

  it("rate-limits a client address guessing across participants", async () => {
    let t = 0;
    const g = gate(() => t);
    const users = ["alice", "bob", "carol", "dan", "eve"];
    for (const u of users) {
      t += 1000;
      expect((await g.check(u, "guess", "192.0.2.7")).ok).toBe(false);
    }
    expect(await g.check("bob", "Bob-password-9876543210xy", "192.0.2.7")).toEqual({ ok: false, reason: "rate-limited", retryAfterSeconds: 596 });
    expect(await g.check("bob", "Bob-password-9876543210xy", "192.0.2.8")).toEqual({ ok: true });
  });

  it("never writes a password into a log line or an error", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const failing = new WakeGate({ getPasswords: async () => { throw new Error("stack output unavailable"); } });
    const err = await failing.check("alice", "Alice-password-0123456789", "10.0.0.1").catch((e: Error) => e);
    const g = gate();
    const results = [await g.check("alice", "Alice-password-0123456789", "10.0.0.1"), await g.check("alice", "secret-guess-42", "10.0.0.1")];
    const text = [...lines, String(err), (err as Error).stack ?? "", JSON.stringify(results)].join("\n");
    for (const pw of ["Alice-password-0123456789", "secret-guess-42", "Bob-password-9876543210xy"]) expect(text).not.toContain(pw);
  });
});
