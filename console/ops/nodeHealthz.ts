// The Swarm target's HealthzTransport. A participant's code-server socket is
// on their node, and the console runs on the entry node, so /healthz is read
// the way the edge nginx reaches that node (docs/swarm-routing.md):
// https://<node address>:<nodePort>/<user>/healthz. The node's nginx strips
// /<user>/ (renderParticipant: proxy_pass …/;), so code-server sees GET /healthz.
// The node answers the entry's address only, which is where the console runs.
// As the edge does, it trusts the event CA alone (edgeTrustFile) and checks the
// certificate for nodeTlsName, sending it as SNI when it is a DNS name (no SNI
// for an IP, RFC 6066; nginx sends none either).
import { stat, readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { isIP } from "node:net";
import { checkServerIdentity } from "node:tls";
import type { Event } from "../../infra/config/event.ts";
import { edgeTrustFile, nodeTlsName, type NodeAddress } from "../../infra/render/nginx.ts";
import type { SwarmTargetShape } from "../../infra/config/swarmTarget.ts";
import { readHealthzAnswer, type Healthz, type HealthzTransport } from "./healthz.ts";

export interface NodeHealthzOptions {
  /** Where each node's nginx is reached (target.nodes). */
  readonly nodes: readonly NodeAddress[];
  readonly nodePort: number;
  /** The event CA file, the only certificate trusted (edgeTrustFile); read again when it changes. */
  readonly caFile: string;
  /** The name the node's certificate must carry (nodeTlsName). */
  readonly tlsName: string;
}

/**
 * Idle connections are kept for reuse (one TLS handshake per node, not per
 * probe) and closed after 60 s, before the node server closes them at 75 s
 * (NODE_KEEPALIVE_TIMEOUT), as the edge's upstream keepalive does.
 */
const IDLE_SOCKET_MS = 60_000;

export function nodeHealthz(o: NodeHealthzOptions): HealthzTransport {
  const byName = new Map(o.nodes.map((n) => [n.name, n]));
  const servername = isIP(o.tlsName) === 0 ? o.tlsName : undefined;
  let trust: { readonly key: string; readonly agent: Agent } | undefined;

  /** The agent trusting the CA file as it is now; a new one when the file changed (a new event CA). */
  async function agent(): Promise<Agent> {
    const s = await stat(o.caFile);
    const key = `${s.mtimeMs}:${s.size}`;
    if (trust?.key !== key) {
      const ca = await readFile(o.caFile, "utf8");
      // Probes of one refresh run together: the first to read the file makes the agent, the others use it.
      if (trust?.key !== key) {
        const old = trust;
        // ca replaces Node's public roots; rejectUnauthorized stated, so NODE_TLS_REJECT_UNAUTHORIZED cannot turn it off.
        trust = { key, agent: new Agent({ ca, rejectUnauthorized: true, keepAlive: true, timeout: IDLE_SOCKET_MS }) };
        old?.agent.destroy();
      }
    }
    return trust.agent;
  }

  return async (p, timeoutMs = 2000) => {
    const who = p.name ?? p.socketHostPath;
    if (p.node === undefined || p.endpointPath === undefined) return { reachable: false, error: `${who} has no node in the plan` };
    const node = byName.get(p.node);
    if (!node) return { reachable: false, error: `node ${p.node} is not in target.nodes` };
    let via: Agent;
    try {
      via = await agent();
    } catch (err) {
      return { reachable: false, error: `cannot read the event CA ${o.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    return new Promise<Healthz>((resolve) => {
      const req = request(
        {
          host: node.address,
          port: o.nodePort,
          path: `${p.endpointPath}healthz`,
          method: "GET",
          agent: via,
          timeout: timeoutMs,
          ...(servername ? { servername } : {}),
          // The edge's check (proxy_ssl_name), whatever address the node was reached at.
          checkServerIdentity: (_host, cert) => checkServerIdentity(o.tlsName, cert),
        },
        (res) => readHealthzAnswer(res, resolve),
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (err: NodeJS.ErrnoException) => resolve({ reachable: false, error: err.code ?? err.message }));
      req.end();
    });
  };
}

/** The transport of a swarm event: its nodes, nodePort, event CA and TLS name. */
export function swarmHealthz(event: Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls">, swarm: SwarmTargetShape): HealthzTransport {
  let caFile: string;
  try {
    caFile = edgeTrustFile(event);
  } catch (err) {
    // tls.mode provided (refused on a swarm by validation): nothing to trust the nodes through, so nothing is read.
    const error = (err as Error).message;
    return () => Promise.resolve({ reachable: false, error });
  }
  return nodeHealthz({ nodes: swarm.nodes, nodePort: swarm.nodePort, caFile, tlsName: nodeTlsName(event) });
}
