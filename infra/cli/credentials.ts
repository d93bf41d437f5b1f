// `thon credentials`: the one place secrets are printed, because the
// organizer asked for them. Reads the stack's outputs through the Pulumi CLI
// (`pulumi stack output --json --show-secrets`) and formats them as a table,
// CSV or printable HTML cards.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ParticipantCredentials } from "../program.ts";

export interface CredentialRow extends ParticipantCredentials {
  readonly name: string;
}

export interface StackCredentials {
  readonly eventName: string;
  readonly caCertUrl: string | undefined;
  readonly rows: readonly CredentialRow[];
}

/** Picks the participants out of `pulumi stack output --json --show-secrets`. */
export function parseStackOutputs(json: string): StackCredentials {
  let outputs: Record<string, unknown>;
  try {
    outputs = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new Error("the stack outputs are not JSON; run `pulumi stack output --json --show-secrets` to see what it prints");
  }
  const participants = outputs.participants;
  if (participants === "[secret]") {
    throw new Error("the participants output is still hidden; the command needs --show-secrets (and the stack's passphrase in PULUMI_CONFIG_PASSPHRASE)");
  }
  if (typeof participants !== "object" || participants === null) {
    throw new Error("the stack has no participants output yet; run `pulumi up` first");
  }
  const event = (outputs.event ?? {}) as { name?: string; caCertUrl?: string };
  const rows = Object.entries(participants as Record<string, ParticipantCredentials>)
    .map(([name, c]) => ({ name, ...c }))
    .sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
  return { eventName: event.name ?? "event", caCertUrl: event.caCertUrl, rows };
}

const COLUMNS = ["name", "group", "state", "url", "password", "apiKey"] as const;

function cell(row: CredentialRow, column: (typeof COLUMNS)[number]): string {
  return String(row[column] ?? "");
}

export function formatTable(creds: StackCredentials): string {
  const widths = COLUMNS.map((c) => Math.max(c.length, ...creds.rows.map((r) => cell(r, c).length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(COLUMNS), line(widths.map((w) => "-".repeat(w))), ...creds.rows.map((r) => line(COLUMNS.map((c) => cell(r, c))))].join("\n") + "\n";
}

/** RFC 4180 CSV: quote fields holding commas, quotes or line breaks. */
export function formatCsv(creds: StackCredentials): string {
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [COLUMNS.join(","), ...creds.rows.map((r) => COLUMNS.map((c) => quote(cell(r, c))).join(","))].join("\r\n") + "\r\n";
}

const escapeHtml = (v: string) =>
  v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** One card per participant, four to an A4 page, to cut and hand out. */
export function formatHtml(creds: StackCredentials): string {
  const cards = creds.rows
    .map((r) => {
      const rows = [
        ["VS Code", `<a href="${escapeHtml(r.url)}">${escapeHtml(r.url)}</a>`],
        ...(r.password ? [["Password", `<code>${escapeHtml(r.password)}</code>`]] : []),
        ...(r.apiKey ? [["AI key", `<code>${escapeHtml(r.apiKey)}</code>`]] : []),
        ...(creds.caCertUrl ? [["First, trust", `<a href="${escapeHtml(creds.caCertUrl)}">${escapeHtml(creds.caCertUrl)}</a>`]] : []),
      ];
      return `<section class="card"><h2>${escapeHtml(r.name)}</h2><p class="group">${escapeHtml(r.group)}</p><table>${rows
        .map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`)
        .join("")}</table></section>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(creds.eventName)}: credentials</title>
<style>
body{font-family:system-ui,sans-serif;margin:0}
.card{box-sizing:border-box;width:50%;height:50vh;float:left;padding:1.5em;border:1px dashed #999;page-break-inside:avoid}
h2{margin:0}.group{color:#555;margin:.2em 0 1em}th{text-align:left;padding-right:1em;vertical-align:top}
code{font-size:1.2em;word-break:break-all}
@media print{.card{height:13.5cm}}
</style></head><body>
${cards}
</body></html>
`;
}

const exec = promisify(execFile);

/** Runs the Pulumi CLI for the stack's outputs; errors say what to install or set. */
export async function readStackOutputs(stack: string, cwd: string): Promise<string> {
  try {
    const { stdout } = await exec("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", stack], {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") {
      throw new Error("the Pulumi CLI is not installed here (`thon prepare` installs it; see README: Installing Pulumi on the event host); or pass --from <file> with saved `pulumi stack output --json --show-secrets`");
    }
    throw new Error(`pulumi stack output failed for stack "${stack}": ${(e.stderr ?? e.message).trim()}`);
  }
}
