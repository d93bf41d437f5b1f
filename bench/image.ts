// What the sandbox image costs, by package group (issue 17): the image's size,
// and for each group of infra/image/runtime-packages.txt the packages it
// brings and their installed size, read from dpkg's own database inside the
// built image (a container with --network none that runs python3 over
// /var/lib/dpkg/status). Each package is counted once: in the base (what
// debootstrap's minbase installs anyway), in the one group whose dependency
// closure alone holds it, or as "shared" between toolchain groups.
//
// Build time per group is not measured here: every package comes in one
// debootstrap run (about 6 minutes on this 2-core host with the toolchain);
// the step timings of infra/image/build-offline.sh are printed with it.
//
//   node --import tsx bench/image.ts [image]    (default: this checkout's image,
//   by infra/image/build-offline.sh's content tag; the thon-sandbox:offline
//   alias may point at another checkout's build on a shared engine)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lib/child.ts";
import { fmt, table } from "./lib/stats.ts";
import { isMain, type Section } from "./lib/section.ts";

/** Groups of runtime-packages.txt, by the packages that head them. */
export const GROUPS: Readonly<Record<string, readonly string[]>> = {
  "code-server runtime (ca-certificates, git, libgssapi-krb5-2, tini)": ["ca-certificates", "git", "libgssapi-krb5-2", "tini"],
  "Python 3 with pip and venv": ["python3", "python3-pip", "python3-venv"],
  curl: ["curl"],
  "build-essential (gcc, g++, make, libc headers)": ["build-essential"],
};

// Run inside the image: prints {"group": [[package, KiB], ...], "base": [...], "shared": [...]} as JSON.
const ANALYSE = String.raw`
import json, re, sys
groups = json.loads(sys.argv[1])
pkgs = {}
for block in open("/var/lib/dpkg/status").read().split("\n\n"):
    f = {}
    for line in block.split("\n"):
        m = re.match(r"^([A-Za-z-]+): ?(.*)$", line)
        if m: f[m.group(1)] = m.group(2)
    if "Package" in f and "install ok installed" in f.get("Status", ""):
        name = f["Package"]
        deps = []
        for field in ("Depends", "Pre-Depends"):
            for alt in f.get(field, "").split(","):
                opts = [re.sub(r"[ (:].*", "", a.strip()) for a in alt.split("|") if a.strip()]
                deps.append(opts)
        provides = [re.sub(r"[ (].*", "", p.strip()) for p in f.get("Provides", "").split(",") if p.strip()]
        pkgs[name] = {"size": int(f.get("Installed-Size", "0")), "deps": deps, "provides": provides, "prio": f.get("Priority", ""), "essential": f.get("Essential") == "yes"}
providers = {}
for n, p in pkgs.items():
    for v in p["provides"]: providers.setdefault(v, []).append(n)
def closure(roots):
    seen, todo = set(), list(roots)
    while todo:
        n = todo.pop()
        if n in seen or n not in pkgs: continue
        seen.add(n)
        for alt in pkgs[n]["deps"]:
            for o in alt:
                cand = [o] if o in pkgs else providers.get(o, [])
                if cand:
                    todo.append(cand[0]); break
    return seen
base = closure([n for n, p in pkgs.items() if p["essential"] or p["prio"] in ("required", "important")])
sets = {g: closure(roots) - base for g, roots in groups.items()}
out = {"base": sorted([[n, pkgs[n]["size"]] for n in base])}
owners = {}
for g, s in sets.items():
    for n in s: owners.setdefault(n, []).append(g)
for g in groups: out[g] = sorted([[n, pkgs[n]["size"]] for n, o in owners.items() if o == [g]])
out["shared"] = sorted([[n, pkgs[n]["size"]] for n, o in owners.items() if len(o) > 1])
out["other"] = sorted([[n, pkgs[n]["size"]] for n in pkgs if n not in base and n not in owners])
print(json.dumps(out))
`;

const MiB = 1024;

/** This checkout's image tag (build-offline.sh is cached by content: instant when built). */
function ownImage(): string {
  return execFileSync("bash", [join(ROOT, "infra/image/build-offline.sh")], { encoding: "utf8", timeout: 3_600_000, stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
}

export async function benchImage(image = ownImage()): Promise<Section> {
  const size = Number(execFileSync("docker", ["image", "inspect", "-f", "{{.Size}}", image], { encoding: "utf8" }).trim());
  const raw = execFileSync(
    "docker",
    ["run", "--rm", "--network", "none", "--entrypoint", "python3", image, "-c", ANALYSE, JSON.stringify(GROUPS)],
    { encoding: "utf8", timeout: 120_000 },
  );
  const result = JSON.parse(raw) as Record<string, [string, number][]>;
  const kib = (list: [string, number][]) => list.reduce((s, [, k]) => s + k, 0);
  const biggest = (list: [string, number][]) =>
    [...list].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([n, k]) => `${n} ${fmt(k / MiB)}`).join(", ");
  const rows = [
    ["Debian minbase (essential, required, important)", result.base!],
    ...Object.keys(GROUPS).map((g) => [g, result[g]!] as const),
    ["shared by more than one group", result.shared!],
    ["other (not reached from a group: leftovers)", result.other!],
  ] as const;
  const lines = rows.map(([name, list]) => [name, String(list.length), fmt(kib(list) / MiB), biggest(list) || "–"]);
  const dpkgTotal = rows.reduce((s, [, list]) => s + kib(list), 0);
  const node = `${readFileSync(join(ROOT, "infra/image/runtime-packages.txt"), "utf8").split("\n").filter((l) => l && !l.startsWith("#")).length} packages named in runtime-packages.txt`;
  const body = [
    `Image \`${image}\`: **${fmt(size / 2 ** 20)} MiB** (docker image inspect); Debian packages ${fmt(dpkgTotal / MiB)} MiB installed (dpkg's Installed-Size, ${node}); the rest is Node 20 with npm (the host's, about 110 MiB) and code-server.`,
    "",
    table(["group", "packages", "installed MiB", "largest (MiB)"], lines),
  ].join("\n");
  return { title: "Sandbox image by package group", body };
}

if (isMain(import.meta.url)) {
  const section = await benchImage(process.argv[2]);
  process.stdout.write(`## ${section.title}\n\n${section.body}\n`);
}
