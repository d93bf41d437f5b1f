// Secrets in Pulumi's wire format ({ <sig key>: <secret sig>, value }), as
// the engine, the mocks and the policy analyzer see property values. The
// markers come from the SDK itself (@pulumi/pulumi/runtime/rpc), not copies.
import { isRpcSecret } from "@pulumi/pulumi/runtime/rpc.js";

/** Whether a wire value is, or holds somewhere inside, a secret. */
export function containsSecret(value: unknown): boolean {
  if (isRpcSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsSecret);
  return false;
}

/** A wire value with every secret, however deep, replaced by its plain value. */
export function unwrapSecrets(value: unknown): unknown {
  if (isRpcSecret(value)) return unwrapSecrets((value as { value?: unknown }).value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}
