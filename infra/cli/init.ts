// `thon init`: writes a commented thon.yaml and the stack's Pulumi config
// from a few answers (asked interactively, or given as flags).
import { stringify } from "yaml";

export interface InitAnswers {
  readonly name: string;
  readonly host: string;
  /** Group name -> participant names. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly auth: "password" | "none";
  readonly workspace: "volume" | "bind" | "ephemeral";
  readonly workspaceDir?: string;
  readonly lemonade: boolean;
  readonly gateway: boolean;
}

/** Parses "alpha=alice,bob" into ["alpha", ["alice", "bob"]]. */
export function parseGroupFlag(value: string): [string, string[]] {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new Error(`--group wants "name=user1,user2", got "${value}"`);
  const users = value
    .slice(eq + 1)
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  return [value.slice(0, eq).trim(), users];
}

const block = (value: unknown) => stringify(value).trimEnd();
/** A name as a YAML scalar; JSON quoting keeps odd input from changing the structure. */
const scalar = (v: string) => (/^[a-z0-9_-]+$/.test(v) ? v : JSON.stringify(v));

export function renderThonYaml(a: InitAnswers): string {
  const groups = Object.entries(a.groups)
    .map(([g, users]) => `  ${scalar(g)}:\n    users: [${users.map(scalar).join(", ")}]`)
    .join("\n");
  const workspace = a.workspace === "bind" ? { mode: "bind", hostDir: a.workspaceDir ?? "/srv/thon/workspaces" } : { mode: a.workspace };
  return `# THON event file: one VS Code sandbox per participant.
# Full reference: README.md ("thon.yaml reference") and stacks/example/thon.yaml.
# Check it with: npx thon validate <this file>

event:
  name: ${scalar(a.name)}
  # What participants type in the browser: a DNS name or this host's IP.
  host: ${JSON.stringify(a.host)}

sandbox:
  # "password": a random password per participant (see: npx thon credentials).
  auth: ${a.auth}
  cpus: 1
  memory: 2GiB

# Workspaces outlive containers and the stack; remove one with: npx thon purge <user>
${block({ workspace })}

# Participants are named from their name alone: moving someone to another
# group never restarts their sandbox. Pause one with: npx thon users stop <user>
groups:
${groups}

tls:
  # "ca": THON makes an event CA; participants import it from https://${a.host}/ca.crt
  mode: ca

lemonade:
  # A local OpenAI-compatible LLM for every sandbox (Lemonade Server >= 10.1 on this host).
  enabled: ${a.lemonade}

gateway:
  # APISIX in front of Lemonade: an API key and a token limit per participant.
  enabled: ${a.gateway}
`;
}

export function renderStackConfig(thonFile: string): string {
  return `# The stack's settings. The passphrase secrets provider needs no account:
# export PULUMI_CONFIG_PASSPHRASE before pulumi commands.
secretsprovider: passphrase
config:
  thon:file: ${thonFile}
`;
}
