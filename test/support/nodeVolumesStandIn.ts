// A stand-in for the per-node Docker engines' volumes, named as such: the
// NodeVolumes contract (console/ops/nodeMove.ts) over an in-memory map of
// node → volume → files. A volume lives on one node only, as on a swarm;
// `copy` creates the destination volume and copies the files, `measure`
// counts files and bytes. Tests make a node unreachable or a copy lossy to
// see the move refuse.
import type { NodeVolumes, VolumeMeasure } from "../../console/ops/nodeMove.ts";

export class StandInNodeVolumes implements NodeVolumes {
  /** node → volume → path → content. */
  readonly nodes = new Map<string, Map<string, Map<string, string>>>();
  readonly calls: string[] = [];
  /** Nodes whose engine does not answer (every call rejects). */
  readonly unreachable = new Set<string>();
  /** Drops one file from each copy (a copy that goes wrong half-way). */
  lossyCopy = false;

  put(node: string, volume: string, files: Record<string, string>): void {
    if (!this.nodes.has(node)) this.nodes.set(node, new Map());
    this.nodes.get(node)!.set(volume, new Map(Object.entries(files)));
  }

  files(node: string, volume: string): Record<string, string> | undefined {
    const v = this.nodes.get(node)?.get(volume);
    return v ? Object.fromEntries(v) : undefined;
  }

  private reach(node: string): Map<string, Map<string, string>> {
    if (this.unreachable.has(node)) throw new Error(`cannot connect to the Docker daemon on ${node}`);
    if (!this.nodes.has(node)) this.nodes.set(node, new Map());
    return this.nodes.get(node)!;
  }

  async exists(node: string, volume: string): Promise<boolean> {
    return this.reach(node).has(volume);
  }

  async measure(node: string, volume: string): Promise<VolumeMeasure> {
    const v = this.reach(node).get(volume);
    if (!v) throw new Error(`no such volume ${volume} on ${node}`);
    return { files: v.size, bytes: [...v.values()].reduce((s, c) => s + Buffer.byteLength(c), 0) };
  }

  async copy(from: string, to: string, volume: string): Promise<void> {
    this.calls.push(`copy ${volume} ${from}->${to}`);
    const source = this.reach(from).get(volume);
    if (!source) throw new Error(`no such volume ${volume} on ${from}`);
    const dest = this.reach(to);
    const entries = [...source.entries()];
    dest.set(volume, new Map(this.lossyCopy ? entries.slice(1) : entries));
  }

  async remove(node: string, volume: string): Promise<void> {
    this.calls.push(`remove ${volume} on ${node}`);
    this.reach(node).delete(volume);
  }
}
