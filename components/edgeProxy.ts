import * as pulumi from "@pulumi/pulumi";
import type { Event } from "../infra/config/event.ts";
import type { ParticipantPlan } from "../infra/plan.ts";
import { nginxLayout, nodeUpstreamFile, participantFile, renderEdgeParticipant, renderNodeUpstream, renderServer, type NginxLayout } from "../infra/render/nginx.ts";
import type { ShellCommand } from "../infra/target.ts";
import { NginxFiles, serverDeleteScript } from "./nginxFiles.ts";
import { rendered } from "./rendered.ts";
import type { NodeShell } from "../infra/target.ts";
import type { SwarmPlan } from "../infra/plan.ts";
import type { Tls } from "./tls.ts";
import { edgeResourceNames } from "../infra/resourceNames.ts";

export interface EdgeProxyArgs {
  readonly event: Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls" | "console" | "idle">;
  /** The swarm: every node (one upstream each), who is where, nodePort. */
  readonly swarm: Pick<SwarmPlan, "entry" | "nodePort" | "nodes">;
  /** The event's participants. */
  readonly participants: readonly ParticipantPlan[];
  readonly tls: Tls;
  /** The entry node's shell. */
  readonly shell: NodeShell;
  /**
   * The entry node's NodeProxy reload: both reload the same nginx, and two
   * reloads at once could each see the other's half-promoted files.
   */
  readonly after?: readonly pulumi.Resource[];
}

/**
 * The event's HTTPS entry on a swarm: the entry node's nginx, with today's
 * public server (443, /ca.crt, the console at /_thon/, the unavailable page;
 * the certificates as the local Proxy writes them), one upstream file per
 * node (its nginx on nodePort, kept-alive TLS) and one location file per
 * participant, to their node, checked against the event CA
 * (infra/render/nginx/swarm.ts). Same mechanism as the local Proxy
 * (components/nginxFiles.ts). Adding a participant is one file create plus
 * the reload; moving one to another node rewrites their one file.
 */
export class EdgeProxy extends pulumi.ComponentResource {
  public readonly layout: NginxLayout;
  public readonly reload: ShellCommand;

  constructor(name: string, args: EdgeProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:proxy:EdgeProxy", name, {}, opts);
    const { event, swarm, tls, shell } = args;
    const nodeOf = new Map<string, SwarmPlan["nodes"][number]>();
    for (const n of swarm.nodes) for (const user of n.participants) nodeOf.set(user, n);

    const layout = nginxLayout(event);
    const files = new NginxFiles(this, shell);
    const tlsFiles = files.certificates(name, layout, tls);
    const server = files.write(`${name}-server`, layout.serverFile, rendered(this, "the edge's nginx server file", () => renderServer(event, { edge: true })), "0644", {
      delete: serverDeleteScript(layout, event.proxy),
      dependsOn: tlsFiles,
    }).command;
    // Every node gets its upstream, with participants or not: a file per node, stable as people come and go.
    const nodeFiles = swarm.nodes.map(
      (n) =>
        files.write(edgeResourceNames.node(n.name), nodeUpstreamFile(layout, n.name), rendered(this, `the edge's upstream of node ${n.name}`, () => renderNodeUpstream(event, n, swarm.nodePort)), "0644", {
          dependsOn: [server],
        }).command,
    );
    const participantFiles = args.participants.map((p) => {
      const node = nodeOf.get(p.name);
      if (!node) throw new pulumi.ResourceError(`participant ${p.name} is on no node of target.nodes`, this);
      return files.write(edgeResourceNames.participant(p.name), participantFile(layout, p.name), rendered(this, `the edge's location of ${p.name}`, () => renderEdgeParticipant(event, p, node)), "0644", {
        dependsOn: [server],
      }).command;
    });
    this.reload = files.reload(`${name}-reload`, event.proxy.nginx, layout, [...tlsFiles, server, ...nodeFiles, ...participantFiles, ...(args.after ?? [])]);

    this.layout = layout;
    this.registerOutputs({ serverFile: layout.serverFile });
  }
}
