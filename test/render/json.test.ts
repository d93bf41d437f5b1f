// The one sorted-JSON writer every rendered JSON file goes through.
import { describe, expect, it } from "vitest";
import { stableJson } from "../../infra/render/json.ts";

describe("stableJson", () => {
  it("writes the same text for reordered keys at every depth, keeps array order, ends with a newline", () => {
    const a = { b: 1, a: { y: [3, { q: 1, p: 2 }], x: null } };
    const reversed = { a: { x: null, y: [3, { p: 2, q: 1 }] }, b: 1 };
    expect(stableJson(a)).toBe(stableJson(reversed));
    expect(stableJson(a)).toBe('{\n  "a": {\n    "x": null,\n    "y": [\n      3,\n      {\n        "p": 2,\n        "q": 1\n      }\n    ]\n  },\n  "b": 1\n}\n');
    expect(stableJson([2, 1])).not.toBe(stableJson([1, 2]));
  });
});
