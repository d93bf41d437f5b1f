// The CI workflow cannot run here: it is validated against GitHub's workflow
// schema with action-validator (WebAssembly, offline), checked for what the
// issue asks of it, and every command it runs must be in docs/ci-deployment.md.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import * as actionValidator from "@action-validator/core";

const WORKFLOW = ".github/workflows/deploy.yml";
const CI_DOC = "docs/ci-deployment.md";
const source = readFileSync(WORKFLOW, "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  "runs-on": string;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, { branches?: string[]; inputs?: Record<string, { type: string; default?: string; options?: string[] }> } | null>;
  concurrency: { group: string; "cancel-in-progress": boolean };
  env: Record<string, string>;
  jobs: Record<string, Job>;
}
const wf = parse(source) as Workflow;

/** The page that documents deploying from CI: the commands CI runs, to run by hand. */
function ciDoc(): string {
  const doc = readFileSync(CI_DOC, "utf8");
  expect(doc.startsWith("# Deploying from CI\n"), `${CI_DOC} starts with "# Deploying from CI"`).toBe(true);
  return doc;
}

/** A section of the README (only its two commands are checked there). */
function readmeSection(title: string): string {
  const readme = readFileSync("README.md", "utf8");
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Project commands in `run:` steps (shell plumbing such as `if [ -f … ]` aside). */
function runCommands(job: Job): string[] {
  return job.steps
    .flatMap((s) => (s.run ?? "").split("\n"))
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => /^(npm|npx|node|pulumi|sudo)\b/.test(l));
}

/** What a pulumi/actions step runs, as the equivalent CLI commands. */
function pulumiCommands(step: Step): string[] {
  const w = step.with ?? {};
  const out: string[] = [];
  if (w["cloud-url"]) out.push('pulumi login "$PULUMI_BACKEND_URL"');
  const flags = [`--stack "$STACK"`];
  if (w.policyPacks) flags.push(`--policy-pack ${String(w.policyPacks)}`);
  if (w.policyPackConfigs) flags.push('--policy-pack-config "policies/config.$STACK.json"');
  if (w.diff === true) flags.push("--diff");
  out.push(`pulumi ${String(w.command)} ${flags.join(" ")}`);
  return out;
}

describe("CI workflow", () => {
  it("is a valid GitHub Actions workflow (action-validator)", () => {
    const result = actionValidator.validateWorkflow(source);
    expect(result.errors).toEqual([]);
    expect(result.actionType).toBe("workflow");
  });

  it("the validator really checks: a broken copy has errors", () => {
    const broken = source.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest").replace("cancel-in-progress: false", "cancel-in-progress: maybe");
    const result = actionValidator.validateWorkflow(broken);
    expect(result.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(result.errors)).toMatch(/runs_on|runs-on/);
  });

  it("runs on pull requests, on pushes to main and by hand with a stack input", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push", "workflow_dispatch"]);
    expect(wf.on.push?.branches).toEqual(["main"]);
    expect(wf.on.workflow_dispatch?.inputs?.stack).toMatchObject({ type: "string", default: "dev" });
    expect(wf.on.workflow_dispatch?.inputs?.command?.options).toEqual(["preview", "up"]);
  });

  it("never runs two deploys of one stack at once, and never cancels one halfway", () => {
    expect(wf.concurrency.group).toContain("inputs.stack");
    expect(wf.concurrency.group).toBe(`thon-stack-\${{ inputs.stack || vars.THON_STACK || 'dev' }}`);
    expect(wf.env.STACK).toBe(`\${{ inputs.stack || vars.THON_STACK || 'dev' }}`);
    expect(wf.concurrency["cancel-in-progress"]).toBe(false);
  });

  it("takes the backend URL and the passphrase from repository secrets", () => {
    expect(wf.env.PULUMI_BACKEND_URL).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
    expect(wf.env.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    for (const job of ["preview", "deploy"]) {
      const step = wf.jobs[job]!.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
      expect(step.with?.["cloud-url"], job).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
    }
    expect(source).not.toMatch(/PULUMI_CONFIG_PASSPHRASE:\s*['"]?[^$\s]/);
  });

  it("tests first, then previews pull requests with the pack and posts the diff on the PR", () => {
    const preview = wf.jobs.preview!;
    expect(preview.needs).toBe("test");
    expect(preview.if).toContain("github.event_name == 'pull_request'");
    expect(preview.permissions).toMatchObject({ "pull-requests": "write" });
    const step = preview.steps.find((s) => s.uses === "pulumi/actions@v6")!;
    expect(step.with).toMatchObject({ command: "preview", policyPacks: "policies", "comment-on-pr": true, "stack-name": "${{ env.STACK }}" });
  });

  it("tests first, then runs pulumi up with the pack on main", () => {
    const deploy = wf.jobs.deploy!;
    expect(deploy.needs).toBe("test");
    expect(deploy.if).toContain("github.ref == 'refs/heads/main'");
    const step = deploy.steps.find((s) => s.uses === "pulumi/actions@v6")!;
    expect(step.with).toMatchObject({ command: "up", policyPacks: "policies", "stack-name": "${{ env.STACK }}" });
    expect(runCommands(wf.jobs.test!)).toEqual(expect.arrayContaining(["npm ci", "npm test"]));
  });

  it("runs only commands docs/ci-deployment.md documents", () => {
    const documented = ciDoc();
    const commands = new Set<string>();
    for (const job of Object.values(wf.jobs)) {
      for (const c of runCommands(job)) commands.add(c);
      for (const step of job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"))) for (const c of pulumiCommands(step)) commands.add(c);
    }
    expect([...commands]).toEqual(
      expect.arrayContaining(["npm ci", "npm run typecheck", "npm test", 'npm run policy -- --stack "$STACK"', 'pulumi login "$PULUMI_BACKEND_URL"']),
    );
    expect([...commands].filter((c) => c.startsWith("pulumi ") && !c.startsWith("pulumi login"))).toHaveLength(2);
    for (const command of commands) expect(documented, `${CI_DOC} lists: ${command}`).toContain(`\n${command}\n`);
  });

  it("runs the same test command as .ci/run and the README's two commands", () => {
    const ci = readFileSync(".ci/run", "utf8");
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test\b/m);
    expect(readmeSection("Two commands")).toContain("npm test ");
  });
});
