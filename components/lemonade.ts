import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Event } from "../infra/config/event.ts";
import type { LemonadePlan } from "../infra/lemonade/plan.ts";
import { Model } from "../infra/providers/lemonade.ts";
import { renderEnvFile, renderLemondUnit } from "../infra/render/systemd.ts";
import { renderLemonadeConfig } from "../infra/render/lemonadeConfig.ts";
import { sha256 } from "../infra/hash.ts";
import { activationScript, ownedDirScript, removeUnitScript } from "../infra/render/hostScripts.ts";
import type { Target } from "../infra/target.ts";
import { HostFile } from "./hostFile.ts";
import { rendered } from "./rendered.ts";

export interface LemonadeArgs {
  readonly lemonade: Event["lemonade"];
  readonly plan: LemonadePlan;
  /** Where lemond's files and activation run: the host, or on a swarm the shell of Lemonade's node (LemonadePlan.node). */
  readonly target: Pick<Target, "command">;
}

/**
 * Lemonade Server (lemond) on the event host (on a swarm, the node with the
 * GPU), serving one chat model and optionally one embedding model to every
 * sandbox.
 *
 * - Files go through the target: the systemd unit, config.json (in
 *   LEMONADE_CACHE_DIR, owned by the service user) and an env file with the
 *   two keys (mode 0600, root; systemd reads it before dropping privileges).
 * - One activation command reloads systemd, restarts lemond if it runs and
 *   enables/starts it. Its triggers are the three files' hashes, so it runs
 *   again (a restart) only when one of them changed; adding a participant
 *   changes none of them.
 * - The models are registered, downloaded and loaded through Lemonade's API
 *   (dynamic provider). Their context size and parallel slots scale with
 *   the participant count, so they are the only thing here that a new
 *   participant can change (a reload, until lemonade.maxParallel is reached).
 */
export class Lemonade extends pulumi.ComponentResource {
  /** LEMONADE_API_KEY: what the gateway (or, without it, every sandbox) sends. Secret. */
  public readonly apiKey: pulumi.Output<string>;
  public readonly unitName: string;
  public readonly chatModel: Model;
  public readonly embeddingModel: Model | undefined;

  constructor(name: string, args: LemonadeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:lemonade:Lemonade", name, {}, opts);
    const { lemonade, plan, target } = args;
    const paths = lemonade.paths;

    // Letters and digits only: they go into an EnvironmentFile and HTTP headers unquoted.
    const apiKey = new random.RandomPassword(`${name}-api-key`, { length: 48, special: false }, { parent: this });
    // A separate admin key: LEMONADE_ADMIN_API_KEY defaults to the API key, which
    // would give every key holder /internal/* (shutdown, settings).
    const adminKey = new random.RandomPassword(`${name}-admin-key`, { length: 48, special: false }, { parent: this });

    const unitPath = `${paths.unitDir.replace(/\/+$/, "")}/${plan.unitName}`;
    const unitText = rendered(this, "lemond's systemd unit", () =>
      renderLemondUnit({
        unitName: plan.unitName,
        lemond: paths.lemond,
        user: lemonade.user,
        cacheDir: paths.cacheDir,
        envFile: paths.envFile,
      }),
    );
    const unit = new HostFile(
      `${name}-unit`,
      // Removing Lemonade from thon.yaml stops the service THON started.
      { target, path: unitPath, mode: "0644", content: unitText, delete: removeUnitScript(paths.systemctl, plan.unitName, unitPath) },
      { parent: this },
    );

    const envText = pulumi.secret(
      pulumi.all([apiKey.result, adminKey.result]).apply(([api, admin]) =>
        renderEnvFile({ LEMONADE_ADMIN_API_KEY: admin, LEMONADE_API_KEY: api }),
      ),
    );
    const envFile = new HostFile(`${name}-env`, { target, path: paths.envFile, mode: "0600", content: envText }, { parent: this });

    const configPath = `${paths.cacheDir.replace(/\/+$/, "")}/config.json`;
    const configText = renderLemonadeConfig(plan.config);
    const owner = `${lemonade.user}:${lemonade.user}`;
    // lemond rewrites config.json itself (migrations, /internal/set), so it must own it.
    const config = new HostFile(
      `${name}-config`,
      { target, path: configPath, mode: "0640", owner: lemonade.user, group: lemonade.user, content: configText, prepare: ownedDirScript(paths.cacheDir, owner) },
      { parent: this },
    );

    const service = target.command(
      `${name}-service`,
      {
        create: activationScript(paths.systemctl, plan.unitName),
        // No delete: a replacement (new triggers) must not stop the service it just
        // restarted. Stopping belongs to the unit file's delete.
        triggers: [sha256(unitText), sha256(configText), pulumi.secret(envText.apply(sha256))],
      },
      { parent: this, dependsOn: [unit.command, envFile.command, config.command] },
    );

    const model = (suffix: string, m: NonNullable<LemonadePlan["embedding"]> | LemonadePlan["chat"]) =>
      new Model(
        `${name}-${suffix}`,
        {
          apiUrl: plan.apiUrl,
          adminKey: adminKey.result,
          model: m.id,
          checkpoint: m.checkpoint,
          recipe: m.recipe,
          embedding: m.embedding,
          load: m.load,
          startTimeoutSeconds: lemonade.startTimeoutSeconds,
          pullTimeoutSeconds: lemonade.pullTimeoutMinutes * 60,
        },
        { parent: this, dependsOn: [service] },
      );
    this.chatModel = model("chat", plan.chat);
    this.embeddingModel = plan.embedding ? model("embedding", plan.embedding) : undefined;

    this.apiKey = pulumi.secret(apiKey.result);
    this.unitName = plan.unitName;
    this.registerOutputs({ apiKey: this.apiKey, unitName: this.unitName });
  }
}
