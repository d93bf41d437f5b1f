// One participant on the swarm harness as the program declares it on Swarm
// (SWARM.md "Swarm resources"), as hand-written recorded resources for the
// engine stand-in: the node's socket folder (a remote command on the node),
// the password secret, the event's overlay network and the pinned Service
// running the real sandbox image (code-server on the node-local socket).
// Used by the swarm e2e test and the swarm benchmark.
import { join } from "node:path";
import { codeServerArgs, SANDBOX_PATHS } from "../../../infra/plan.ts";
import type { RecordedResource } from "../../../infra/preview/evaluate.ts";
import { thonMocks } from "../../../infra/preview/providerOutputs.ts";
import { recorded } from "../../support/recorded.ts";
import { TYPES } from "./engine.ts";
import type { Swarm } from "./swarm.ts";

export const SWARM_NETWORK = "thon-net-swarm";

/** The manager's docker provider and the event's overlay network (attachable). */
export function swarmBase(swarm: Swarm): { provider: RecordedResource; network: RecordedResource } {
  const provider = recorded("pulumi:providers:docker", "swarm-manager", { host: swarm.manager.dockerHost });
  const network = recorded(TYPES.network, SWARM_NETWORK, { name: SWARM_NETWORK, driver: "overlay", attachable: true }, { provider: provider.urn });
  return { provider, network };
}

export interface SwarmParticipant {
  readonly user: string;
  readonly node: string;
  /** 1 running, 0 stopped. */
  readonly replicas: number;
  readonly password: string;
  readonly image: string;
}

/** The socket command, secret and service of one participant (needs swarmBase's resources in the same evaluation). */
export function swarmParticipant(swarm: Swarm, base: ReturnType<typeof swarmBase>, p: SwarmParticipant): RecordedResource[] {
  const socketDir = join(swarm.nodeDir("sockets"), p.user);
  const sockets = recorded(TYPES.remoteCommand, `thon-sockets-${p.user}`, {
    connection: { host: swarm.node(p.node).address, user: "root", port: 22, privateKey: "(the stand-in does not dial SSH)", dialErrorLimit: 10, perDialTimeout: 15 },
    create: `mkdir -p '${socketDir}' && chown 1000:1000 '${socketDir}' && chmod 0750 '${socketDir}'`,
    delete: `rm -rf '${socketDir}'`,
  });
  const secret = recorded(
    TYPES.secret,
    `thon-password-secret-${p.user}`,
    { name: `thon-password-secret-${p.user}`, data: Buffer.from(p.password).toString("base64"), labels: [{ label: "org.thon.user", value: p.user }] },
    { provider: base.provider.urn },
  );
  // The secret's id under the preview's mocks, as the program passes secret.id (the stand-in maps it to the real id).
  const secretId = thonMocks.newResource({ type: secret.type, name: secret.name, inputs: secret.inputs, custom: true }).id;
  const volumeOptions = (purpose: string) => ({ driverName: "local", labels: [{ label: "org.thon.user", value: p.user }, { label: "org.thon.purpose", value: purpose }] });
  const service = recorded(
    TYPES.service,
    `thon-${p.user}`,
    {
      name: `thon-${p.user}`,
      labels: [{ label: "org.thon.user", value: p.user }],
      mode: { replicated: { replicas: p.replicas } },
      endpointSpec: { mode: "dnsrr" },
      updateConfig: { order: "stop-first" },
      taskSpec: {
        placement: { constraints: [`node.labels.org.thon.node==${p.node}`] },
        resources: { limits: { memoryBytes: 1024 * 1024 * 1024, nanoCpus: 1_000_000_000 } },
        networksAdvanceds: [{ name: SWARM_NETWORK }],
        containerSpec: {
          image: p.image,
          user: "1000:1000",
          // Until the image's entrypoint reads PASSWORD_FILE (issue 18, program side), this
          // wrapper does: the password is never in the service's spec. It counts starts in the home.
          commands: ["/bin/sh", "-c", 'echo start >> "$HOME/starts"; PASSWORD=$(cat "$PASSWORD_FILE"); export PASSWORD; unset PASSWORD_FILE; exec /usr/bin/tini -s -- /usr/local/bin/thon-entrypoint "$@"', "thon-wrap"],
          args: codeServerArgs("password"),
          env: { PASSWORD_FILE: "/run/secrets/thon-password", HOME: SANDBOX_PATHS.home },
          stopGracePeriod: "10s",
          mounts: [
            { type: "volume", source: `thon-home-${p.user}`, target: SANDBOX_PATHS.home, volumeOptions: volumeOptions("home") },
            { type: "volume", source: `thon-workspace-${p.user}`, target: SANDBOX_PATHS.workspace, volumeOptions: volumeOptions("workspace") },
            { type: "bind", source: socketDir, target: SANDBOX_PATHS.socketDir },
          ],
          secrets: [{ secretId, secretName: secret.name, fileName: "/run/secrets/thon-password", fileUid: "1000", fileGid: "1000", fileMode: 0o400 }],
        },
      },
    },
    { provider: base.provider.urn, dependencies: [secret.urn, base.network.urn, sockets.urn] },
  );
  return [sockets, secret, service];
}

/** Where the test process reaches a participant's code-server: its socket in the node's folder. */
export function participantSocket(swarm: Swarm, node: string, user: string): string {
  return join(swarm.hostDir(node, "sockets"), user, "code-server.sock");
}

/** Labels every node org.thon.node=<name>, as the program's per-node label command does (on the manager). */
export async function labelNodes(swarm: Swarm): Promise<void> {
  for (const n of swarm.nodes) {
    const r = await swarm.runOnNode(swarm.manager.name, `docker node update --label-add org.thon.node=${n.name} ${n.name}`);
    if (r.code !== 0) throw new Error(`labelling ${n.name}: ${r.stderr}`);
  }
}
