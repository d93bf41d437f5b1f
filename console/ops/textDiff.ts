// A unified diff of two versions of thon.yaml, for "propose" mode (the
// change to commit) and the audit log. Hand-written because no diff library
// is installed and thon.yaml is small: a plain LCS over lines is enough.

export function unifiedDiff(before: string, after: string, name = "thon.yaml", context = 3): string {
  if (before === after) return "";
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the longest common subsequence of a[i:] and b[j:].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  type Line = { op: " " | "-" | "+"; text: string; ai: number; bi: number };
  const lines: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) lines.push({ op: " ", text: a[i]!, ai: i++, bi: j++ });
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) lines.push({ op: "-", text: a[i]!, ai: i++, bi: j });
    else lines.push({ op: "+", text: b[j]!, ai: i, bi: j++ });
  }
  const out = [`--- a/${name}`, `+++ b/${name}`];
  for (let k = 0; k < lines.length; ) {
    if (lines[k]!.op === " ") {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` after the last change close to it.
    let start = Math.max(0, k - context);
    let end = k;
    while (end < lines.length) {
      let next = end;
      while (next < lines.length && lines[next]!.op === " ") next++;
      if (next >= lines.length || next - end > 2 * context) break;
      end = next + 1;
      while (end < lines.length && lines[end]!.op !== " ") end++;
    }
    const stop = Math.min(lines.length, end + context);
    const hunk = lines.slice(start, stop);
    const aLen = hunk.filter((l) => l.op !== "+").length;
    const bLen = hunk.filter((l) => l.op !== "-").length;
    out.push(`@@ -${hunk[0]!.ai + 1},${aLen} +${hunk[0]!.bi + 1},${bLen} @@`);
    for (const l of hunk) out.push(`${l.op}${l.text}`);
    k = stop;
    start = stop;
  }
  return out.join("\n") + "\n";
}
