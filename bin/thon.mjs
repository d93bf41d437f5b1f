#!/usr/bin/env node
// The thon CLI. The sources are TypeScript; tsx runs them without a build step.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../infra/cli/main.ts");
await run();
