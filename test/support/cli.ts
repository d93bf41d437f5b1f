// The thon command run in-process with captured output, on thon.yaml files in
// temp folders: what the CLI tests share.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, type Io } from "../../infra/cli/main.ts";

/** An event with comments where an edit must keep them. */
export const COMMENTED_EVENT = `# Devfest 2026 participants
event:
  name: devfest # the event's name
  host: 127.0.0.1
groups:
  alpha:
    users:
      - alice # team lead
      - bob
  beta:
    users: [carol]
`;

/** Runs `thon args` in `cwd`; `answers` are typed at its questions, in order (`asked` records them, `left` what was not used). */
export async function thon(args: string[], cwd = mkdtempSync(join(tmpdir(), "thon-cli-")), answers?: string[], env?: NodeJS.ProcessEnv) {
  let out = "";
  let err = "";
  const queue = [...(answers ?? [])];
  const asked: string[] = [];
  const io: Io = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    cwd,
    ...(answers ? { ask: async (q: string) => (asked.push(q), queue.shift() ?? "") } : {}),
    ...(env ? { env } : {}),
  };
  const code = await main(args, io);
  return { code, out, err, cwd, asked, left: queue };
}

/** A thon.yaml with `text` in a new temp folder. */
export function tempEvent(text = COMMENTED_EVENT): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "thon-event-"));
  const file = join(dir, "thon.yaml");
  writeFileSync(file, text);
  return { dir, file };
}
