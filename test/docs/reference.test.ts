// The thon.yaml reference (docs/thon-yaml.md) and its JSON Schema
// (docs/thon.schema.json) are generated from the zod schema by `npm run docs`;
// these tests regenerate both in memory and fail when the checked-in files
// are stale, so the documentation cannot drift from validation.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BEGIN, END, REFERENCE_PATH, SCHEMA_PATH, renderJsonSchema, renderReferenceFile } from "../../scripts/gen-docs.ts";

const root = join(import.meta.dirname, "../..");
const STALE = "is stale: run `npm run docs` and commit the result";

interface Node {
  description?: string;
  const?: unknown;
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  anyOf?: Node[];
  oneOf?: Node[];
  items?: Node;
}

/** Every key of the schema, as dotted paths, with the node that describes it. */
function keys(node: Node, prefix = ""): [string, Node][] {
  const out: [string, Node][] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.push([`${prefix}${key}`, child], ...keys(child, `${prefix}${key}.`));
    for (const variant of child.anyOf ?? child.oneOf ?? []) out.push(...keys(variant, `${prefix}${key}.`));
    if (typeof child.additionalProperties === "object") out.push(...keys(child.additionalProperties, `${prefix}${key}.<name>.`));
  }
  return out;
}

describe("the generated thon.yaml reference", () => {
  it("docs/thon.schema.json is what the schema generates", () => {
    expect(readFileSync(SCHEMA_PATH, "utf8"), `docs/thon.schema.json ${STALE}`).toBe(renderJsonSchema());
  });

  it("docs/thon-yaml.md's generated tables are what the schema generates", () => {
    const current = readFileSync(REFERENCE_PATH, "utf8");
    expect(current, `docs/thon-yaml.md ${STALE}`).toBe(renderReferenceFile(current));
  });

  it("the staleness check notices a hand edit of a generated table", () => {
    const current = readFileSync(REFERENCE_PATH, "utf8");
    const edited = current.replace("`\"thon-sandbox:4.100.3\"`", "`\"thon-sandbox:latest\"`");
    expect(edited).not.toBe(current);
    expect(renderReferenceFile(edited)).toBe(current);
  });

  it("refuses a reference file without the generated markers, naming them", () => {
    expect(() => renderReferenceFile("# thon.yaml\n")).toThrow(BEGIN);
    expect(() => renderReferenceFile(`${END}\n${BEGIN}\n`)).toThrow(END);
  });

  it("every setting in the schema has a description", () => {
    const schema = JSON.parse(renderJsonSchema()) as Node;
    const undescribed = keys(schema)
      // a union's discriminator (workspace.mode, target.kind) is described by its variants
      .filter(([, node]) => !node.description && node.const === undefined)
      .map(([path]) => path);
    expect(undescribed, "add .describe(...) to these fields in infra/config/schema.ts").toEqual([]);
  });

  it("is usable by editors: draft-07, defaults shown, unknown keys refused", () => {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as Node & Record<string, unknown>;
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.additionalProperties).toBe(false);
    const sandbox = schema.properties!.sandbox as Node & { properties: Record<string, { default?: unknown }> };
    expect(sandbox.properties.image!.default).toBe("thon-sandbox:4.100.3");
    // a size transforms its input; its default is still shown, as a number of MiB
    expect(sandbox.properties.memory!.default).toBe(2048);
    expect(sandbox.properties.env!.default).toEqual({});
  });

  it("documents every setting the example event shows", () => {
    const reference = readFileSync(REFERENCE_PATH, "utf8");
    const example = parse(readFileSync(join(root, "stacks/example/thon.yaml"), "utf8")) as Record<string, Record<string, unknown>>;
    const shown: string[] = [];
    for (const [section, body] of Object.entries(example)) {
      if (section === "groups") continue;
      for (const key of Object.keys(body)) shown.push(`${section}.${key}`);
    }
    expect(shown.length).toBeGreaterThan(40);
    for (const path of shown) expect(reference, path).toContain(`| \`${path}\` |`);
  });
});
