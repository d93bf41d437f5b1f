// The event's nginx, by concern: where its files live (layout), identifiers
// and syntax checks (names), the unavailable page (page), the configuration
// renderers (config; swarm for the edge and node servers), the manifest and the transactional reload (reload.sh,
// shipped by reload.ts).
export * from "./nginx/layout.ts";
export { nginxIds, serverNames } from "./nginx/names.ts";
export * from "./nginx/page.ts";
export * from "./nginx/config.ts";
export * from "./nginx/swarm.ts";
export * from "./nginx/manifest.ts";
export * from "./nginx/reload.ts";
