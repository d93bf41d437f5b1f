// The typed, normalized event every later step works from. thon.yaml is
// convenient to write (users as names or objects, states inherited from the
// group); the Event is convenient to use (a sorted participant list with each
// one's effective state and group).
import type { ThonFile, RunState } from "./schema.ts";

export interface Participant {
  readonly name: string;
  readonly group: string;
  /** Effective state: the user's own, else the group's, else sandbox.state. */
  readonly state: RunState;
  /** target.kind swarm: the participant's own host:, else the group's (SWARM.md). */
  readonly host?: string;
}

export interface Group {
  readonly name: string;
  readonly users: readonly string[];
}

export interface Event {
  readonly name: string;
  readonly host: string;
  readonly altNames: readonly string[];
  readonly hostMemoryMiB: number | undefined;
  readonly sandbox: Omit<ThonFile["sandbox"], "vscodeSettings" | "settings" | "state"> & {
    /** The effective VS Code user settings: THON's defaults, the settings file, then inline settings. */
    readonly settings: Readonly<Record<string, unknown>>;
  };
  /**
   * Groups with a template of their own (`groups.<g>.sandbox`): the event's
   * sandbox with the group's overrides applied. Absent groups use `sandbox`.
   */
  readonly groupSandboxes?: Readonly<Record<string, EventSandbox>>;
  readonly workspace: ThonFile["workspace"];
  /** Sorted by name. */
  readonly groups: readonly Group[];
  /** Sorted by name; names are unique across the event. */
  readonly participants: readonly Participant[];
  readonly tls: ThonFile["tls"];
  readonly proxy: ThonFile["proxy"];
  readonly lemonade: ThonFile["lemonade"];
  readonly gateway: ThonFile["gateway"];
  readonly target: ThonFile["target"];
  /** The idle-parking policy (docs/idle.md). */
  readonly idle: ThonFile["idle"];
  /** The organizer console; when set, nginx serves it at /_thon/ (infra/render/nginx). */
  readonly console?: ThonFile["console"];
}

export type EventSandbox = Event["sandbox"];

/** The sandbox a participant of `group` gets: the group's template, else the event's. */
export function sandboxFor(event: Pick<Event, "sandbox" | "groupSandboxes">, group: string): EventSandbox {
  return event.groupSandboxes?.[group] ?? event.sandbox;
}

/** The event's sandbox with one group's overrides: lists and scalars replace, env and settings merge key by key. */
export function applyGroupTemplate(base: EventSandbox, t: NonNullable<ThonFile["groups"][string]["sandbox"]>): EventSandbox {
  return {
    ...base,
    ...(t.image !== undefined ? { image: t.image, build: undefined } : {}),
    ...(t.extensions !== undefined ? { extensions: [...t.extensions] } : {}),
    ...(t.memory !== undefined ? { memory: t.memory } : {}),
    ...(t.cpus !== undefined ? { cpus: t.cpus } : {}),
    env: { ...base.env, ...t.env },
    settings: { ...base.settings, ...t.settings },
  };
}

/**
 * Settings THON puts in every sandbox unless the organizer overrides them:
 * workspace trust off (participants open their own folder, Restricted Mode
 * only gets in the way), no telemetry or update prompts on a shared host.
 */
export const DEFAULT_VSCODE_SETTINGS: Readonly<Record<string, unknown>> = {
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "workbench.startupEditor": "none",
};

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Builds the Event from a validated file and the parsed settings file (if any). */
export function toEvent(file: ThonFile, settingsFromFile: Record<string, unknown> = {}): Event {
  const participants: Participant[] = [];
  const groups: Group[] = [];
  for (const [groupName, group] of Object.entries(file.groups)) {
    const users: string[] = [];
    for (const entry of group.users) {
      const name = typeof entry === "string" ? entry : entry.name;
      const own = typeof entry === "string" ? undefined : entry.state;
      const host = (typeof entry === "string" ? undefined : entry.host) ?? group.host;
      participants.push({ name, group: groupName, state: own ?? group.state ?? file.sandbox.state, ...(host !== undefined ? { host } : {}) });
      users.push(name);
    }
    groups.push({ name: groupName, users: users.sort() });
  }
  const { vscodeSettings: _file, settings, state: _state, ...rest } = file.sandbox;
  const sandbox: EventSandbox = { ...rest, settings: { ...DEFAULT_VSCODE_SETTINGS, ...settingsFromFile, ...settings } };
  const templates = Object.entries(file.groups)
    .filter(([, g]) => g.sandbox !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, g]) => [name, applyGroupTemplate(sandbox, g.sandbox!)] as const);
  return {
    name: file.event.name,
    host: file.event.host,
    altNames: [...file.event.altNames],
    hostMemoryMiB: file.event.hostMemory,
    sandbox,
    ...(templates.length > 0 ? { groupSandboxes: Object.fromEntries(templates) } : {}),
    workspace: file.workspace,
    groups: groups.sort(byName),
    participants: participants.sort(byName),
    tls: file.tls,
    proxy: file.proxy,
    lemonade: file.lemonade,
    gateway: file.gateway,
    target: file.target,
    idle: file.idle,
    ...(file.console ? { console: file.console } : {}),
  };
}
