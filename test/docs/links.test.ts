// Every relative link in README.md and docs/*.md points at a file that exists
// and, where it names an anchor, at a heading that file has: moving or
// renaming a page or a section breaks this test, not the reader's click.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)].sort();

const withoutFences = (markdown: string) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");

/** Markdown without code blocks and inline code, where a `](…)` is not a link. */
const prose = (markdown: string) => withoutFences(markdown).replace(/`[^`\n]*`/g, "");

/**
 * GitHub's anchor for a heading (github-slugger's rule: lower case, drop
 * what is not a letter, digit, space, '-' or '_', spaces to '-'; a repeated
 * heading gets -1, -2, …). Written out because it is these few lines and
 * no slugger is installed.
 */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of withoutFences(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(text!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(id!);
  return out;
}

function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

interface Link {
  readonly page: string;
  readonly target: string;
}

/** Relative links and images of a page: not URLs with a scheme, not mail. */
function relativeLinks(page: string, markdown: string): Link[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
    .map((target) => ({ page, target }));
}

/** Why a link does not resolve, or undefined when it does. */
function broken(link: Link, read: (path: string) => string | undefined): string | undefined {
  const [pathPart, anchor] = link.target.split("#", 2) as [string, string | undefined];
  const file = pathPart === "" ? link.page : relative(ROOT, resolve(ROOT, dirname(link.page), decodeURI(pathPart)));
  const text = read(file);
  if (text === undefined) return `${file} does not exist`;
  if (anchor === undefined || anchor === "") return undefined;
  if (!file.endsWith(".md")) return `#${anchor} points into ${file}, which is not a Markdown page`;
  return anchors(text).has(decodeURIComponent(anchor)) ? undefined : `${file} has no heading #${anchor}`;
}

const readRepo = (path: string): string | undefined => {
  const full = join(ROOT, path);
  if (!existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? "" : readFileSync(full, "utf8");
};

describe("documentation links", () => {
  it("finds the pages and their links", () => {
    expect(PAGES).toContain("README.md");
    expect(PAGES).toContain("docs/architecture.md");
    const links = PAGES.flatMap((p) => relativeLinks(p, readFileSync(join(ROOT, p), "utf8")));
    expect(links.length).toBeGreaterThan(20);
    expect(links.some((l) => l.target.includes("#"))).toBe(true);
  });

  it.each(PAGES)("every relative link and anchor in %s resolves", (page) => {
    const problems = relativeLinks(page, readFileSync(join(ROOT, page), "utf8"))
      .map((l) => ({ l, why: broken(l, readRepo) }))
      .filter((p) => p.why !== undefined)
      .map((p) => `${page}: (${p.l.target}) ${p.why}`);
    expect(problems).toEqual([]);
  });

  it("reports a missing file, a missing heading and a heading that is only in a code block", () => {
    const pages: Record<string, string> = {
      "docs/a.md": "# A\n\n## Two `words`, here\n\n```md\n## In code\n```\n\n## A\n",
    };
    const read = (p: string) => pages[p];
    const check = (target: string) => broken({ page: "docs/a.md", target }, read);
    expect(check("b.md")).toBe("docs/b.md does not exist");
    expect(check("a.md#two-words-here")).toBeUndefined();
    expect(check("#a-1")).toBeUndefined();
    expect(check("#in-code")).toBe("docs/a.md has no heading #in-code");
    expect(check("a.md#nope")).toBe("docs/a.md has no heading #nope");
    expect(relativeLinks("x.md", "[web](https://x.org) [mail](mailto:a@b) `[code](c.md)` [ok](d.md)")).toEqual([{ page: "x.md", target: "d.md" }]);
  });
});
