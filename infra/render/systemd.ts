// systemd text for lemond: the service unit THON installs and the
// environment file holding the keys. Pure string renderers; the Lemonade
// component writes them through the target, tests run systemd-analyze on them.

export interface LemondUnitOptions {
  /** lemond.service or lemonade-server.service (infra/lemonade/facts.ts). */
  readonly unitName: string;
  readonly lemond: string;
  /** The account lemond runs as (its group has the same name). */
  readonly user: string;
  /** LEMONADE_CACHE_DIR: where lemond reads config.json. */
  readonly cacheDir: string;
  /** THON's env file with LEMONADE_API_KEY and LEMONADE_ADMIN_API_KEY. */
  readonly envFile: string;
}

/** A path as a unit file value: no whitespace or control characters; "%" escaped as systemd wants. */
function unitPath(what: string, path: string): string {
  if (!path.startsWith("/") || /[\s\x00-\x1f"'\\]/.test(path)) {
    throw new Error(`${what} must be an absolute path without spaces, quotes or backslashes for a systemd unit, got ${JSON.stringify(path)}`);
  }
  return path.replace(/%/g, "%%");
}

/**
 * The package's own unit (data/lemond.service.in at v11.7.0), with THON's
 * changes: the cache folder pinned through LEMONADE_CACHE_DIR (config.json's
 * location moved after 11.7; an explicit folder keeps it put), THON's env
 * file read after the package's conf.d (so THON's keys win), and the cache
 * folder kept writable whatever ProtectSystem hides.
 */
export function renderLemondUnit(o: LemondUnitOptions): string {
  if (!/^[a-z_][a-z0-9_-]*[$]?$/i.test(o.user)) throw new Error(`lemonade.user must be a user name, got ${JSON.stringify(o.user)}`);
  const cacheDir = unitPath("lemonade.paths.cacheDir", o.cacheDir);
  return `# Written by THON (thon:lemonade:Lemonade); \`pulumi up\` rewrites it, edit thon.yaml instead.
# It takes the place of the package's ${o.unitName} (/etc/systemd/system wins over /usr/lib/systemd/system).
[Unit]
Description=Lemonade Server (THON)
Documentation=https://lemonade-server.ai/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
StateDirectory=lemonade
StateDirectoryMode=0750
RuntimeDirectory=lemonade
RuntimeDirectoryMode=0700
WorkingDirectory=%S/lemonade
# Settings live in config.json in this folder (host, port, llamacpp.args, ...).
Environment=LEMONADE_CACHE_DIR=${cacheDir}
# The package's files first (e.g. HF_TOKEN), THON's keys last so they win.
EnvironmentFile=-/etc/lemonade/conf.d/*.conf
EnvironmentFile=${unitPath("lemonade.paths.envFile", o.envFile)}
ExecStart=${unitPath("lemonade.paths.lemond", o.lemond)}
# SIGHUP rescans hardware and recipes only; config.json changes need a restart.
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5s
KillSignal=SIGINT
AmbientCapabilities=CAP_SYS_RESOURCE
PrivateTmp=yes
NoNewPrivileges=yes
ProtectSystem=full
ProtectHome=yes
ReadWritePaths=-${cacheDir}
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes

[Install]
WantedBy=multi-user.target
`;
}

/**
 * KEY=value lines for systemd's EnvironmentFile=, sorted. Values are
 * restricted to characters that need no quoting, so what systemd reads is
 * exactly what was generated.
 */
export function renderEnvFile(vars: Readonly<Record<string, string>>): string {
  const lines = Object.keys(vars)
    .sort()
    .map((key) => {
      const value = vars[key]!;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`environment variable name ${JSON.stringify(key)} is not valid`);
      if (!/^[A-Za-z0-9._:/@+=-]*$/.test(value)) throw new Error(`the value of ${key} has characters an EnvironmentFile would need quoted`);
      return `${key}=${value}`;
    });
  return `# Written by THON; read by systemd for lemond (mode 0600).\n${lines.join("\n")}\n`;
}
