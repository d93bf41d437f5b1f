// Shell text for the swarm's manager commands (issue 18). Pure, so the exact
// scripts are unit-tested and shown by `thon plan`.
import { LABELS } from "../resourceNames.ts";
import { shellQuote as q } from "./shell.ts";

/** The node label listing the keys of the labels THON set on a node, so a later update or delete removes exactly those. */
export const MANAGED_LABELS_KEY = "org.thon.labels";

/**
 * Sets a node's labels (user labels and org.thon.node) with one
 * `docker node update` on the manager; labels THON set before and no longer
 * wants are removed in the same update. org.thon.node is never removed on an
 * update: Swarm stops every task whose constraint its node no longer meets,
 * so even a moment without it would take the node's participants down.
 * Create and update run this same script.
 */
export function nodeLabelsScript(node: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  for (const k of keys) {
    if (k.includes(",") || /\s/.test(k) || k.includes("=") || k === "") throw new Error(`node ${node}: label key ${JSON.stringify(k)} has a comma, '=' or white space`);
  }
  if (labels[LABELS.node] !== node) throw new Error(`node ${node}: its labels must include ${LABELS.node}=${node}`);
  const managed = keys.join(",");
  const adds = [...keys.map((k) => `--label-add ${q(`${k}=${labels[k]}`)}`), `--label-add ${q(`${MANAGED_LABELS_KEY}=${managed}`)}`];
  return [
    `node=${q(node)}`,
    `old=$(docker node inspect --format '{{ index .Spec.Labels "${MANAGED_LABELS_KEY}" }}' "$node")`,
    "set --",
    `for key in $(printf '%s' "$old" | tr ',' ' '); do`,
    `  case ${q(`,${managed},`)} in *",$key,"*) ;; *) set -- "$@" --label-rm "$key" ;; esac`,
    "done",
    `docker node update "$@" ${adds.join(" ")} "$node" >/dev/null`,
    "",
  ].join("\n");
}

/** Removes the labels THON set (as listed on the node); a node that left the swarm has none to remove. */
export function nodeLabelsDeleteScript(node: string): string {
  return [
    `node=${q(node)}`,
    `docker node inspect "$node" >/dev/null 2>&1 || exit 0`,
    `old=$(docker node inspect --format '{{ index .Spec.Labels "${MANAGED_LABELS_KEY}" }}' "$node")`,
    `set -- --label-rm ${MANAGED_LABELS_KEY}`,
    `for key in $(printf '%s' "$old" | tr ',' ' '); do set -- "$@" --label-rm "$key"; done`,
    `[ -z "$old" ] || docker node update "$@" "$node" >/dev/null`,
    "",
  ].join("\n");
}
