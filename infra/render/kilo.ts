// The Kilo Code config THON puts into each sandbox at
// ~/.config/kilo/config.json: the lowest-precedence global file, so a
// participant's own ~/.config/kilo/kilo.jsonc or project kilo.jsonc wins.
//
// Kilo's config schema is strict: one unknown key and Kilo ignores the whole
// global config ("failed to load global config, using defaults"). Only keys
// read from Kilo's sources appear here (see the README). Kilo also rewrites
// a global file that lacks "$schema" or permission.bash; both are present,
// so the file stays as THON wrote it.
import { stableJson } from "./json.ts";

const KILO_SCHEMA_URL = "https://app.kilo.ai/config.json";
/** The provider id; models are "thon/<model id>". */
const KILO_PROVIDER_ID = "thon";

export interface KiloChatModel {
  /** The id requests carry: Lemonade's "user.<name>". */
  readonly id: string;
  readonly displayName: string;
  /** limit.context: what one request can count on at the event's largest scale. */
  readonly context: number;
  readonly output: number;
}

export interface KiloIndexing {
  readonly model: string;
  readonly dimension: number;
}

export interface KiloConfigOptions {
  readonly providerName: string;
  /** OpenAI-compatible base URL as seen from inside the sandbox (…/v1). */
  readonly baseURL: string;
  readonly apiKey: string;
  readonly chat: KiloChatModel;
  /** Codebase indexing settings; undefined leaves the block out. */
  readonly indexing?: KiloIndexing | undefined;
  readonly bash: "ask" | "allow" | "deny";
}

export function kiloConfig(o: KiloConfigOptions): Record<string, unknown> {
  const model = `${KILO_PROVIDER_ID}/${o.chat.id}`;
  return {
    $schema: KILO_SCHEMA_URL,
    provider: {
      [KILO_PROVIDER_ID]: {
        npm: "@ai-sdk/openai-compatible",
        name: o.providerName,
        options: { baseURL: o.baseURL, apiKey: o.apiKey },
        models: {
          [o.chat.id]: {
            name: o.chat.displayName,
            tool_call: true,
            limit: { context: o.chat.context, output: o.chat.output },
          },
        },
      },
    },
    model,
    // Titles and summaries too: otherwise Kilo picks a cloud model for them.
    small_model: model,
    // Kilo's only global enablement is its UI toggle: `indexing.enabled` in a
    // global file is stripped (KilocodeConfig.scopeIndexing). So this block
    // configures the embedder and the participant switches indexing on in a
    // project's kilo.jsonc ({"indexing": {"enabled": true}}) or in the UI.
    ...(o.indexing
      ? {
          indexing: {
            provider: "openai-compatible",
            model: o.indexing.model,
            dimension: o.indexing.dimension,
            "openai-compatible": { baseUrl: o.baseURL, apiKey: o.apiKey },
          },
        }
      : {}),
    permission: { bash: o.bash },
    // Kilo's OpenTelemetry export is on unless turned off.
    experimental: { openTelemetry: false },
  };
}

export function renderKiloConfig(o: KiloConfigOptions): string {
  return stableJson(kiloConfig(o));
}
