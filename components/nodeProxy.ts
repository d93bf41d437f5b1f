import * as pulumi from "@pulumi/pulumi";
import type { Event } from "../infra/config/event.ts";
import type { ParticipantPlan } from "../infra/plan.ts";
import { edgeTrustFile, nodeLayout, participantFile, renderNodeServer, renderParticipant, renderUpstream, upstreamFile, type NginxLayout } from "../infra/render/nginx.ts";
import type { ShellCommand } from "../infra/target.ts";
import { NginxFiles, serverDeleteScript } from "./nginxFiles.ts";
import { rendered } from "./rendered.ts";
import type { NodeShell } from "../infra/target.ts";
import type { SwarmNodePlan, SwarmPlan } from "../infra/plan.ts";
import type { Tls } from "./tls.ts";

export interface NodeProxyArgs {
  readonly event: Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls" | "idle">;
  /** The swarm: its entry (whose address the node answers) and nodePort. */
  readonly swarm: Pick<SwarmPlan, "entry" | "nodePort" | "nodes">;
  /** This node; its `participants` are the ones it serves. */
  readonly node: Pick<SwarmNodePlan, "name" | "address" | "participants">;
  /** The event's participants (all of them; the node's are picked by name). */
  readonly participants: readonly ParticipantPlan[];
  readonly tls: Tls;
  /** This node's shell: where the files are written and nginx reloaded. */
  readonly shell: NodeShell;
}

/**
 * One swarm node's nginx: the node server (infra/render/nginx/swarm.ts), an
 * HTTPS server on nodePort with the event's server certificate that only the
 * edge reaches, and today's two files per participant of this node (their
 * location, `thon-nginx-<user>`, and their socket upstream,
 * `thon-upstream-<user>`), written through the node's shell with the local
 * Proxy's mechanism (components/nginxFiles.ts): staged files, a manifest and
 * one transactional reload. Adding a participant to the node is two file
 * creates plus that reload; the other nodes see nothing.
 */
export class NodeProxy extends pulumi.ComponentResource {
  public readonly layout: NginxLayout;
  /** The reload command; the edge's reload on the same nginx (the entry node) waits for it. */
  public readonly reload: ShellCommand;

  constructor(name: string, args: NodeProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:proxy:NodeProxy", name, {}, opts);
    const { event, swarm, node, tls, shell } = args;
    const entry = swarm.nodes.find((n) => n.name === swarm.entry);
    if (!entry) throw new pulumi.ResourceError(`target.entry: ${swarm.entry} is not one of target.nodes`, this);
    // The node's certificate must be one the edge can trust through the event CA.
    rendered(this, "the node's certificate", () => edgeTrustFile(event));
    const byName = new Map(args.participants.map((p) => [p.name, p]));
    const mine = node.participants.map((user) => {
      const p = byName.get(user);
      if (!p) throw new pulumi.ResourceError(`node ${node.name} names participant ${user}, who is not in the event`, this);
      return p;
    });

    const layout = nodeLayout(event);
    const files = new NginxFiles(this, shell);
    const tlsFiles = files.certificates(name, layout, tls);
    const server = files.write(
      `${name}-server`,
      layout.serverFile,
      rendered(this, "the node's nginx server file", () => renderNodeServer(event, { nodePort: swarm.nodePort, node, entryAddress: entry.address })),
      "0644",
      { delete: serverDeleteScript(layout, event.proxy), dependsOn: tlsFiles },
    ).command;
    // Today's files, under the participant's own resource names (a participant is on one node).
    // The node is a trigger: moving someone replaces their files, so the
    // old ones are deleted on the node they leave (through its shell), not
    // only pruned by its reload.
    const participantFiles = mine.flatMap((p) => [
      files.write(p.resourceNames.proxyUpstream, upstreamFile(layout, p.name), rendered(this, `the nginx upstream of ${p.name}`, () => renderUpstream(event, p)), "0644", {
        dependsOn: [server],
        triggers: [node.name],
      }).command,
      files.write(p.resourceNames.proxyConfig, participantFile(layout, p.name), rendered(this, `the nginx location of ${p.name}`, () => renderParticipant(event, p)), "0644", {
        dependsOn: [server],
        triggers: [node.name],
      }).command,
    ]);
    this.reload = files.reload(`${name}-reload`, event.proxy.nginx, layout, [...tlsFiles, server, ...participantFiles]);

    this.layout = layout;
    this.registerOutputs({ serverFile: layout.serverFile });
  }
}
