// Who can get into a sandbox: code-server's authentication and where its
// password comes from.
import * as random from "@pulumi/random";
import {
  validateResourceOfType,
  type EnforcementLevel,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { configOf, dependenciesOf, eventFacts, isLoopback, isSandbox, nameOf, ofType, settle, show, TYPES, UNKNOWN, type Preview } from "./lib";

/**
 * code-server's `--auth` value in a command line, or undefined when the flag is absent.
 * @internal exported for tests.
 */
export function authMode(command: readonly (string | typeof UNKNOWN)[]): string | typeof UNKNOWN | undefined {
  let mode: string | typeof UNKNOWN | undefined;
  command.forEach((arg, i) => {
    if (arg === "--auth") mode = command[i + 1] ?? "";
    else if (typeof arg === "string" && arg.startsWith("--auth=")) mode = arg.slice("--auth=".length);
  });
  return mode;
}

interface ContainerView {
  readonly resource: PolicyResource;
  readonly who: string;
  readonly command: Preview<string[] | undefined>;
  readonly envs: Preview<string[] | undefined>;
}

function sandboxes(resources: readonly PolicyResource[]): ContainerView[] {
  return ofType(resources, TYPES.container).flatMap((r) => {
    const props = settle(r.props as { labels?: { label: string; value: string }[]; command?: string[]; envs?: string[]; name?: string });
    if (props === UNKNOWN) return [{ resource: r, who: r.name, command: UNKNOWN, envs: UNKNOWN }];
    if (!isSandbox(props.labels)) return [];
    return [{ resource: r, who: nameOf(r.name, props), command: props.command, envs: props.envs }];
  });
}

interface AuthConfig {
  /** Where participants reach the event; overrides the stack's `event` output. */
  eventHosts?: string[];
}

/**
 * thon-code-server-auth: when the event is reachable beyond loopback, every
 * sandbox's code-server runs with `--auth password`.
 *
 * Where the event is reachable comes from the stack's `event` output (its
 * host and altNames, from thon.yaml), which the engine hands to AnalyzeStack
 * with the Stack resource; the policy config's `eventHosts` overrides it. When
 * neither says, the event counts as reachable: the safe assumption.
 */
export function codeServerAuth(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-code-server-auth",
    description:
      "code-server asks for a password (--auth password) whenever the event is reachable beyond this host's loopback. Fix: set sandbox.auth: password in thon.yaml; auth none is only for an event whose host is 127.0.0.1 or localhost.",
    enforcementLevel,
    configSchema: {
      properties: {
        eventHosts: {
          type: "array",
          items: { type: "string" },
          description: "Names/addresses participants reach the event under; default: the stack's event output (thon.yaml event.host and altNames).",
        },
      },
    },
    validateStack: (args, report) => {
      const config = configOf<AuthConfig>(args, {});
      const hosts = config.eventHosts ?? eventFacts(args).hosts;
      const exposed = hosts === undefined ? undefined : hosts.filter((h) => !isLoopback(h));
      if (exposed !== undefined && exposed.length === 0) return; // loopback only
      const where =
        exposed === undefined
          ? "the pack could not tell where the event is reachable (no event output, no eventHosts in the policy config), so it assumes beyond loopback"
          : `the event is reachable at ${exposed.join(", ")}`;
      for (const s of sandboxes(args.resources)) {
        if (s.command === UNKNOWN || (s.command ?? []).includes(UNKNOWN as never)) {
          report(`${s.who}: the code-server command is unknown at preview, so its --auth cannot be checked; ${where}`, s.resource.urn);
          continue;
        }
        const mode = authMode(s.command ?? []);
        if (mode !== "password") {
          report(`${s.who}: code-server runs with --auth ${mode === undefined ? "(not given)" : show(mode)} while ${where}. Anyone who can reach it gets a shell`, s.resource.urn);
        }
      }
    },
  };
}

interface PasswordConfig {
  minLength: number;
}

/** thon-password-strength: every random.RandomPassword is at least `minLength` (16) characters. */
export function passwordStrength(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-password-strength",
    description:
      "Passwords from random.RandomPassword are at least 16 characters (minLength in the policy config). Fix: raise sandbox.passwordLength in thon.yaml (default 24).",
    enforcementLevel,
    configSchema: {
      properties: { minLength: { type: "integer", minimum: 8, default: 16, description: "Shortest password accepted." } },
    },
    validateResource: validateResourceOfType(random.RandomPassword, (props, args, report) => {
      const { minLength } = configOf<PasswordConfig>(args, { minLength: 16 });
      const p = settle(props);
      const length = p === UNKNOWN ? UNKNOWN : p.length;
      if (length === UNKNOWN) report(`${args.name}: length is unknown at preview; give a literal length of at least ${minLength}`);
      else if (typeof length !== "number" || length < minLength) report(`${args.name} makes ${show(length)}-character passwords; at least ${minLength} are needed`);
    }),
  };
}

/**
 * thon-sandbox-password-from-random: a sandbox with `--auth password` takes
 * PASSWORD from a random.RandomPassword (seen as a dependency of the
 * container), not a value typed into the program or thon.yaml.
 */
export function sandboxPasswordFromRandom(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-sandbox-password-from-random",
    description:
      "A sandbox with password auth gets its PASSWORD from a random.RandomPassword (a Pulumi secret), never from a literal. Fix: let the Sandbox component create the password (sandbox.auth: password); do not put PASSWORD in sandbox.env.",
    enforcementLevel,
    validateStack: (args, report) => {
      for (const s of sandboxes(args.resources)) {
        if (s.command === UNKNOWN || authMode((s.command ?? []) as string[]) !== "password") continue;
        const passwords = dependenciesOf(s.resource).filter((d) => d.type === TYPES.randomPassword);
        if (passwords.length === 0) {
          report(`${s.who} uses password auth but depends on no random.RandomPassword: its PASSWORD is a literal, readable in the program or thon.yaml`, s.resource.urn);
        }
        // The environment is unknown at preview when the password is new; checked once it is known.
        if (Array.isArray(s.envs) && !s.envs.some((e) => typeof e === "string" && /^(HASHED_)?PASSWORD=./.test(e)) && !s.envs.includes(UNKNOWN)) {
          report(`${s.who} uses password auth without a PASSWORD in its environment: code-server would invent one inside the container that nobody can hand out`, s.resource.urn);
        }
      }
    },
  };
}
