// The API's docs page: swagger-ui from the swagger-ui-dist package, served by
// the console itself (no CDN: event hosts may be offline), reading
// /api/openapi.json. The page's script is a file too, so the strict CSP
// (script-src 'self') holds. Its URLs are relative (from /api/docs: docs/…,
// openapi.json), so they also resolve behind nginx's /_thon/ prefix.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Auth, ConsoleEnv } from "../auth/types.ts";
import { OPENAPI_INFO } from "./app.ts";

const DIST = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const FILES: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>THON console API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" href="docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// Same-origin requests carry the session cookie; swagger-ui sends the CSRF header the console asks for when one is set in the page's cookie-less flow.
const INIT = `window.ui = SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true, withCredentials: true });\n`;

export function docsRoutes(app: OpenAPIHono<ConsoleEnv>, auth: Auth): void {
  const viewer = auth.require("viewer");
  const cache = new Map<string, Buffer>();
  app.get("/api/openapi.json", viewer, (c) => c.json(app.getOpenAPI31Document(OPENAPI_INFO)));
  app.get("/api/docs", viewer, (c) => c.html(PAGE));
  app.get("/api/docs/init.js", viewer, (c) => c.body(INIT, 200, { "Content-Type": "text/javascript; charset=utf-8" }));
  app.get("/api/docs/:file", viewer, (c) => {
    const file = c.req.param("file");
    const type = FILES[file];
    if (!type) return c.notFound();
    let body = cache.get(file);
    if (!body) cache.set(file, (body = readFileSync(join(DIST, file))));
    return c.body(new Uint8Array(body), 200, { "Content-Type": type, "Cache-Control": "max-age=86400" });
  });
}
