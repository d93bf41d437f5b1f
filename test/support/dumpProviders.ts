// Run with `node --import tsx` (as Pulumi.yaml runs the program for `pulumi up`):
// evaluates the program for the event file in argv[2] under mocks and prints
// each dynamic resource's registration (type, name, urn, inputs with
// `__provider`) as JSON, so a test can replay them outside vitest's module system.
import { loadEvent } from "../../infra/config/load.ts";
import { defineEvent } from "../../infra/program.ts";
import { evaluate } from "../../infra/preview/evaluate.ts";

const event = loadEvent(process.argv[2]!);
const e = await evaluate(() => defineEvent(event), { config: process.argv[3] ? JSON.parse(process.argv[3]) : {} });
const dynamic = e.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
process.stdout.write(JSON.stringify(dynamic.map((r) => ({ type: r.type, name: r.name, urn: r.urn, inputs: r.inputs }))));
