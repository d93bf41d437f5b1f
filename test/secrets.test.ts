// The one secret unwrapper for values in Pulumi's wire format.
import { describe, expect, it } from "vitest";
import { containsSecret, unwrapSecrets } from "../infra/secrets.ts";

// Pulumi's wire markers, written out here so the test does not read them from the module it checks.
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });

describe("unwrapSecrets and containsSecret", () => {
  it("replace secrets at any depth by their value, and find them", () => {
    const wire = { a: [secret({ b: secret("x") })], c: 1 };
    expect(unwrapSecrets(wire)).toEqual({ a: [{ b: "x" }], c: 1 });
    expect(containsSecret(wire)).toBe(true);
    expect(containsSecret({ a: [{ b: "x" }], c: 1 })).toBe(false);
    // Only the secret marker counts: another value under the signature key is not a secret.
    expect(containsSecret({ "4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", value: 1 })).toBe(false);
  });
});
