// The parts of Kilo Code's config schema that THON's file touches, written
// out from Kilo-Org/kilocode's sources (packages/opencode/src/config/config.ts
// @ 002186d5 `Config.Info`, `Provider`, ModelsDev.Model's `limit`;
// packages/kilo-indexing/src/config.ts @ 0c5d3b91 `IndexingConfig`). Like
// Kilo's, the top level, provider entries and the indexing block are strict:
// one unknown key and Kilo ignores the whole global config.
import { z } from "zod";

const TOP_LEVEL = [
  "$schema", "logLevel", "server", "command", "skills", "watcher", "plugin", "snapshot", "share", "autoshare", "autoupdate",
  "disabled_providers", "enabled_providers", "model", "small_model", "default_agent", "username", "mode", "agent",
  "provider", "mcp", "formatter", "lsp", "instructions", "layout", "permission", "tools", "enterprise", "compaction",
  "experimental", "indexing",
] as const;

const model = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    tool_call: z.boolean().optional(),
    reasoning: z.boolean().optional(),
    attachment: z.boolean().optional(),
    temperature: z.boolean().optional(),
    limit: z.object({ context: z.number().int().positive(), input: z.number().int().positive().optional(), output: z.number().int().positive() }).optional(),
  });

const provider = z
  .object({
    api: z.string().optional(),
    name: z.string().optional(),
    env: z.array(z.string()).optional(),
    id: z.string().optional(),
    npm: z.string().optional(),
    whitelist: z.array(z.string()).optional(),
    blacklist: z.array(z.string()).optional(),
    options: z.object({ apiKey: z.string().optional(), baseURL: z.string().optional() }).catchall(z.any()).optional(),
    models: z.record(z.string(), model).optional(),
  })
  .strict();

const indexing = z
  .object({
    enabled: z.boolean().optional(),
    provider: z.enum(["kilo", "openai", "ollama", "openai-compatible", "gemini", "mistral", "vercel-ai-gateway", "bedrock", "openrouter", "voyage"]).optional(),
    model: z.string().nullable().optional(),
    dimension: z.number().int().positive().nullable().optional(),
    vectorStore: z.enum(["lancedb", "qdrant", "valkey"]).optional(),
    "openai-compatible": z.object({ baseUrl: z.string().optional(), apiKey: z.string().optional() }).strict().optional(),
    searchMinScore: z.number().min(0).max(1).optional(),
    searchMaxResults: z.number().int().positive().optional(),
  })
  .strict();

const permissionAction = z.enum(["ask", "allow", "deny"]);

export const kiloGlobalConfig = z
  .object({
    $schema: z.string().optional(),
    model: z.string().nullable().optional(),
    small_model: z.string().nullable().optional(),
    provider: z.record(z.string(), provider).optional(),
    permission: z.record(z.string(), z.union([permissionAction, z.record(z.string(), permissionAction)])).optional(),
    experimental: z.object({ openTelemetry: z.boolean().optional() }).optional(),
    indexing: indexing.optional(),
  })
  .catchall(z.unknown())
  .superRefine((value, ctx) => {
    const unknown = Object.keys(value).filter((k) => !(TOP_LEVEL as readonly string[]).includes(k));
    if (unknown.length > 0) ctx.addIssue({ code: "custom", message: `Unrecognized key(s) in object: ${unknown.join(", ")}` });
  });
