import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newestChange, readSignals } from "../../console/idle/signals.ts";
import type { IdleDocker } from "../../console/idle/docker.ts";

const at = (iso: string) => new Date(iso);

describe("newest change in a workspace", () => {
  it("finds the newest mtime in nested folders, and skips build folders", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-idle-ws-"));
    mkdirSync(join(dir, "src/deep"), { recursive: true });
    mkdirSync(join(dir, "node_modules/pkg"), { recursive: true });
    writeFileSync(join(dir, "src/deep/a.py"), "x");
    writeFileSync(join(dir, "node_modules/pkg/index.js"), "x");
    for (const p of [dir, "src", "src/deep", "node_modules/pkg"]) utimesSync(join(dir, p === dir ? "" : p), at("2026-11-28T08:00:00Z"), at("2026-11-28T08:00:00Z"));
    utimesSync(join(dir, "src/deep/a.py"), at("2026-11-28T10:00:00Z"), at("2026-11-28T10:00:00Z"));
    utimesSync(join(dir, "node_modules/pkg/index.js"), at("2026-11-28T11:00:00Z"), at("2026-11-28T11:00:00Z"));
    utimesSync(join(dir, "node_modules"), at("2026-11-28T08:00:00Z"), at("2026-11-28T08:00:00Z"));
    expect(await newestChange(dir)).toEqual(at("2026-11-28T10:00:00Z"));
  });

  it("is undefined for a folder it cannot read", async () => {
    expect(await newestChange("/nonexistent/thon")).toBeUndefined();
  });
});

describe("reading signals", () => {
  it("reads no socket and no CPU for a stopped container", async () => {
    const calls: string[] = [];
    const docker: IdleDocker = {
      inspect: async (n) => (calls.push(`inspect ${n}`), { id: "c1", running: false }),
      stop: async () => void calls.push("stop"),
      start: async () => void calls.push("start"),
      cpuPercent: async () => (calls.push("cpu"), 0),
    };
    const s = await readSignals(docker, { containerName: "thon-alice", socketHostPath: "/nonexistent/code-server.sock" }, { lastLlmCallAt: at("2026-11-28T10:00:00Z") });
    expect(s).toEqual({ container: { running: false }, lastLlmCallAt: at("2026-11-28T10:00:00Z") });
    expect(calls).toEqual(["inspect thon-alice"]);
  });
});
