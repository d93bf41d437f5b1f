// One redaction step for everything the console writes down: audit entries,
// log lines and error messages. Two nets: by field name (a `password` or
// `clientSecret` field is hidden whatever it holds) and by value (known
// secrets registered at start, and strings shaped like our tokens, bearer
// headers or cookies), so a secret pasted into a free-text field is caught too.

export const REDACTED = "[redacted]";

// Matched on the field name without '-'/'_', lower-cased: "clientSecret",
// "api_key", "csrfToken" are hidden, "promptTokens" or "tokenScope" are not.
const SECRET_FIELD = /^(key|code)$|(password|passwd|passphrase|secret|token|apikey|adminkey|privatekey|authorization|cookie|credentials?|verifier|nonce)$/;
const isSecretField = (name: string) => SECRET_FIELD.test(name.replace(/[-_]/g, "").toLowerCase());

const SECRET_TEXT: readonly RegExp[] = [
  /\bthon_[A-Za-z0-9_-]{20,}/g, // console API tokens
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(thon_console_session|session)=[^;\s]+/gi,
  // "password=x", "secret: x", "\"token\":\"x\"", but not an identity such as "token:ab12cd" (a colon needs a space or quote after it).
  /\b(password|passwd|secret|token|api[-_]?key|client_secret|code_verifier)(["']?\s*(?:=|:\s+|:["'])\s*["']?)[^\s"',;&]+/gi,
];

export class Redactor {
  readonly #known = new Set<string>();

  /** Registers a secret value (a password, a client secret) to hide wherever it appears. Short values are ignored: hiding "a" would mangle every line. */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 6) this.#known.add(secret);
  }

  /** Hides secrets in free text. */
  text(input: string): string {
    let out = input;
    for (const secret of this.#known) out = out.split(secret).join(REDACTED);
    for (const pattern of SECRET_TEXT) {
      out = out.replace(pattern, (match, ...groups: unknown[]) => {
        // Keep the field name in "password=…" so the line still says what was hidden.
        const name = groups[0];
        const sep = groups[1];
        return typeof name === "string" && typeof sep === "string" && /[:=]/.test(sep) ? `${name}${sep}${REDACTED}` : REDACTED;
      });
    }
    return out;
  }

  /** A deep copy of a JSON-like value with secret fields and secret-looking strings hidden. */
  value(input: unknown, depth = 0): unknown {
    if (depth > 20) return REDACTED;
    if (typeof input === "string") return this.text(input);
    if (Array.isArray(input)) return input.map((v) => this.value(v, depth + 1));
    if (input && typeof input === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
        out[k] = isSecretField(k) && v !== null && v !== undefined && typeof v !== "boolean" ? REDACTED : this.value(v, depth + 1);
      }
      return out;
    }
    return input;
  }

  /** An error's message with secrets hidden, for answers and logs. */
  error(error: unknown): string {
    return this.text(error instanceof Error ? error.message : String(error));
  }
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Log lines (one JSON object each) that pass through the redactor before they are written. */
export function redactingLogger(redactor: Redactor, write: (line: string) => void = (l) => process.stderr.write(l + "\n")): Logger {
  const emit = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ at: new Date().toISOString(), level, message: redactor.text(message), ...(redactor.value(fields ?? {}) as object) }));
  return { info: emit("info"), warn: emit("warn"), error: emit("error") };
}
