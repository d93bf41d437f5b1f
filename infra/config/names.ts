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

/** Why names are this strict, for the messages that refuse one. */
export const NAME_WHY = "a name becomes a container, a volume, a folder and a URL path, which take only these characters";

/**
 * Suggests a valid name for an invalid one: "Alice.Smith" -> "alice-smith",
 * full-width "ａｌｉｃｅ" -> "alice" (NFKC). A name with no Latin letters or
 * digits at all ("李雷", "😀") gets its code points ("u-674e-96f7"), so two
 * such names never get the same suggestion.
 */
export function suggestName(raw: string): string {
  const cleaned = raw
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, 32)
    .replace(/[-_]+$/g, "");
  if (cleaned.length > 0) return cleaned;
  const points = [...raw].map((c) => c.codePointAt(0)!.toString(16));
  const name = `u-${points.join("-")}`.slice(0, 32).replace(/-+$/, "");
  return name === "u" ? "user1" : name;
}
