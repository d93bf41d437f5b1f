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
  /** The organizer console; when set, nginx serves it at /_thon/ (infra/render/nginx). */
  readonly console?: ThonFile["console"];
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
      participants.push({ name, group: groupName, state: own ?? group.state ?? file.sandbox.state });
      users.push(name);
    }
    groups.push({ name: groupName, users: users.sort() });
  }
  const { vscodeSettings: _file, settings, state: _state, ...sandbox } = file.sandbox;
  return {
    name: file.event.name,
    host: file.event.host,
    altNames: [...file.event.altNames],
    hostMemoryMiB: file.event.hostMemory,
    sandbox: { ...sandbox, settings: { ...DEFAULT_VSCODE_SETTINGS, ...settingsFromFile, ...settings } },
    workspace: file.workspace,
    groups: groups.sort(byName),
    participants: participants.sort(byName),
    tls: file.tls,
    proxy: file.proxy,
    lemonade: file.lemonade,
    gateway: file.gateway,
    target: file.target,
    ...(file.console ? { console: file.console } : {}),
  };
}
