// Rules for the names organizers type into thon.yaml. A participant's name
// becomes a Docker container and volume name, a folder on the host, a URL path
// segment, an nginx location and an APISIX consumer name, so it must be safe
// for all of them at once: lower case (no alice/Alice twins), no dots (no "."
// or ".." path segments), no slashes, at most 32 characters.

export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9_-]{0,30}[a-z0-9])?$/;

export const NAME_RULE =
  "1 to 32 characters: lower-case letters, digits, '-' and '_', starting and ending with a letter or digit";

/**
 * Names a participant cannot have because the proxy serves something else at
 * that path (`/ca.crt` cannot clash thanks to the dot, these could).
 */
export const RESERVED_NAMES: readonly string[] = ["healthz", "thon", "v1", "api"];

/** Suggests a valid name for an invalid one: "Alice.Smith" -> "alice-smith". */
export function suggestName(raw: string): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, 32)
    .replace(/[-_]+$/g, "");
  return cleaned.length > 0 ? cleaned : "user1";
}
