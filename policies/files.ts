// Files that hold a secret (a TLS private key, API keys, passwords) and how
// the program puts them on disk. Used by thon-tls-key-file-mode (tls.ts) and
// thon-secret-file-mode (secrets.ts).
//
// How the program writes such a file (components/proxy.ts and
// components/lemonade.ts, both with infra/render/shell.ts's writeFileScript):
// a command (command:local or command:remote) gets the content on `stdin`
// and runs a write script, e.g.
//
//   set -eu
//   install -d -m 0755 -- '/etc/nginx/thon/tls'
//   (umask 077 && cat > '/etc/nginx/thon/tls/server.key.thon-new')
//   chown 0:0 '/etc/nginx/thon/tls/server.key.thon-new'
//   chmod 0600 '/etc/nginx/thon/tls/server.key.thon-new'
//   mv -f -- '/etc/nginx/thon/tls/server.key.thon-new' '/etc/nginx/thon/tls/server.key'
//
// and a sandbox gets files as container `uploads` with `permissions`.
//
// Which resources carry a secret is read from the engine's per-property
// dependencies (AnalyzeStack sends them, pkg/resource/plugin analyzer_plugin.go):
// a command whose `stdin` comes from a tls.PrivateKey writes a key; a
// container whose `uploads` come from a random.RandomPassword uploads an API
// key. Secrets themselves reach an analyzer unwrapped and unmarked, so their
// secretness cannot be used.
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { dependenciesOf, nameOf, ofType, settle, show, TYPES, UNKNOWN } from "./lib";

// ---------------------------------------------------------------------------
// Reading a write script

interface Word {
  readonly text: string;
  /** Holds an unquoted or double-quoted expansion ($x, $(...), `...`): its value is not in the text. */
  readonly dynamic: boolean;
}

interface SimpleCommand {
  readonly words: Word[];
  /** Output redirections of fd 1: `> file`, `>> file`. */
  readonly stdout: Word[];
  /** Whether the command's stdin is redirected (`< file`, here-doc), so it does not read the script's stdin. */
  readonly stdinRedirected: boolean;
  /** Subshell depth at which it runs: `( ... )` keeps umask changes inside. */
  readonly depth: number;
}

type Token = { kind: "word"; word: Word } | { kind: "redirect"; op: string; fd: string } | { kind: "sep" } | { kind: "open" } | { kind: "close" };

/** Splits POSIX sh text into words, operators and separators (enough for THON's write scripts). */
function tokenize(script: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let text = "";
  let dynamic = false;
  let inWord = false;
  const end = () => {
    if (inWord) out.push({ kind: "word", word: { text, dynamic } });
    text = "";
    dynamic = false;
    inWord = false;
  };
  /** Skips $( ... ) or ` ... ` and marks the word dynamic. */
  const skipSubstitution = () => {
    dynamic = true;
    inWord = true;
    if (script[i] === "`") {
      const close = script.indexOf("`", i + 1);
      i = close < 0 ? script.length : close + 1;
      return;
    }
    let depth = 0;
    for (; i < script.length; i++) {
      if (script[i] === "(") depth++;
      else if (script[i] === ")" && --depth === 0) {
        i++;
        return;
      }
    }
  };
  while (i < script.length) {
    const c = script[i]!;
    if (c === "#" && !inWord) {
      while (i < script.length && script[i] !== "\n") i++;
    } else if (c === " " || c === "\t") {
      end();
      i++;
    } else if (c === "\\" && script[i + 1] === "\n") {
      i += 2;
    } else if (c === "\\") {
      text += script[i + 1] ?? "";
      inWord = true;
      i += 2;
    } else if (c === "'") {
      const close = script.indexOf("'", i + 1);
      text += script.slice(i + 1, close < 0 ? script.length : close);
      inWord = true;
      i = close < 0 ? script.length : close + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === "\\" && i + 1 < script.length) {
          text += script[i + 1];
          i += 2;
        } else if (script[i] === "$" || script[i] === "`") {
          if (script[i + 1] === "(" || script[i] === "`") skipSubstitution();
          else {
            dynamic = true;
            text += "$";
            i++;
          }
        } else text += script[i++];
      }
      i++;
    } else if (c === "$" || c === "`") {
      if (script[i + 1] === "(" || c === "`") skipSubstitution();
      else {
        dynamic = true;
        inWord = true;
        text += "$";
        i++;
      }
    } else if (c === ">" || c === "<") {
      // A redirection; digits just before it (2>) name the file descriptor.
      const fd = /^\d+$/.test(text) && inWord ? text : c === ">" ? "1" : "0";
      if (/^\d+$/.test(text) && inWord) {
        text = "";
        inWord = false;
      } else end();
      let op = c;
      i++;
      while (i < script.length && (script[i] === ">" || script[i] === "&" || script[i] === "|" || (c === "<" && script[i] === "<"))) op += script[i++];
      out.push({ kind: "redirect", op, fd });
    } else if (c === "\n" || c === ";" || c === "&" || c === "|") {
      end();
      // &&, ||, |, ;, & and newlines all end a simple command.
      i += script[i + 1] === c && c !== "\n" && c !== ";" ? 2 : 1;
      out.push({ kind: "sep" });
    } else if (c === "(" || c === ")") {
      end();
      out.push({ kind: c === "(" ? "open" : "close" });
      i++;
    } else {
      text += c;
      inWord = true;
      i++;
    }
  }
  end();
  return out;
}

function simpleCommands(script: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let depth = 0;
  let current: { words: Word[]; stdout: Word[]; stdinRedirected: boolean; depth: number } = { words: [], stdout: [], stdinRedirected: false, depth };
  const flush = () => {
    if (current.words.length > 0 || current.stdout.length > 0) commands.push(current);
    current = { words: [], stdout: [], stdinRedirected: false, depth };
  };
  const tokens = tokenize(script);
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.kind === "word") current.words.push(token.word);
    else if (token.kind === "redirect") {
      // The redirection's target: a file, or a descriptor after >& (2>&1).
      const next = tokens[t + 1];
      const target = next?.kind === "word" ? next.word : undefined;
      if (target) t++;
      if (token.op.startsWith("<") && token.fd === "0") current.stdinRedirected = true;
      else if (token.fd === "1" && target && !token.op.includes("&")) current.stdout.push(target);
    } else if (token.kind === "sep") flush();
    else if (token.kind === "open") {
      flush();
      depth++;
      current.depth = depth;
    } else {
      flush();
      depth = Math.max(0, depth - 1);
      current.depth = depth;
    }
  }
  flush();
  return commands;
}

const OCTAL = /^0?[0-7]{3,4}$/;
const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;

/** Where a write script puts its stdin, and with which mode. */
export interface StdinWrite {
  /** The file that ends up holding stdin; undefined when the script does not write stdin in a way the pack reads. */
  readonly file: string | undefined;
  /** Its final mode; undefined when no octal chmod (or umask) settles it. */
  readonly mode: number | undefined;
  /** Problems on the way: the file readable by others while being written, or a step the pack cannot follow. */
  readonly problems: readonly string[];
}

/**
 * Follows a write script the way sh would for the one thing that matters
 * here: which file receives stdin (`cat > file`), what mode it is created
 * with (the umask in effect), what `chmod <octal>` gives it, and where
 * `mv` puts it. Anything else (chown, install -d, set) leaves it alone.
 */
export function stdinWrite(script: string): StdinWrite {
  const problems: string[] = [];
  const modes = new Map<string, number | undefined>();
  // umask per subshell depth; undefined: the one the command runs with, which the script does not say.
  const umasks: (number | undefined)[] = [undefined];
  let file: string | undefined;
  let readsStdin = 0;
  for (const cmd of simpleCommands(script)) {
    umasks.length = cmd.depth + 1;
    if (umasks[cmd.depth] === undefined && cmd.depth > 0) umasks[cmd.depth] = umasks[cmd.depth - 1];
    const words = cmd.words;
    const name = words[0]?.text;
    const args = words.slice(1).filter((w) => !(w.text.startsWith("-") && !w.dynamic));
    if (name === "umask" && words[1] !== undefined && OCTAL.test(words[1].text)) {
      umasks[cmd.depth] = parseInt(words[1].text, 8);
    } else if (name === "cat" && args.length === 0 && !cmd.stdinRedirected && cmd.stdout.length > 0) {
      readsStdin++;
      const target = cmd.stdout.at(-1)!;
      if (target.dynamic) {
        problems.push(`writes stdin to ${target.text || "a file"} named by a shell expansion, which the pack cannot follow`);
        continue;
      }
      const umask = umasks[cmd.depth];
      const created = umask === undefined ? undefined : 0o666 & ~umask;
      if (created === undefined || (created & 0o077) !== 0) {
        problems.push(
          `creates ${target.text} ${created === undefined ? "under the umask it happens to run with" : `with mode ${octal(created)} (umask ${octal(umask!)})`}: readable by others while it is being written. Set umask 077 before writing`,
        );
      }
      file = target.text;
      modes.set(file, created);
    } else if (name === "chmod") {
      const [mode, ...paths] = args;
      if (mode === undefined) continue;
      for (const p of paths) {
        if (p.dynamic) problems.push(`changes the mode of ${p.text || "a file"} named by a shell expansion, which the pack cannot follow`);
        else modes.set(p.text, !mode.dynamic && OCTAL.test(mode.text) ? parseInt(mode.text, 8) : undefined);
      }
    } else if (name === "mv" && args.length === 2) {
      const [from, to] = args as [Word, Word];
      if (from.dynamic || to.dynamic) {
        if (file !== undefined && (from.dynamic || from.text === file)) problems.push(`moves ${file} with a shell expansion, which the pack cannot follow`);
        continue;
      }
      if (modes.has(from.text)) {
        modes.set(to.text, modes.get(from.text));
        modes.delete(from.text);
      }
      if (file === from.text) file = to.text;
    }
  }
  if (readsStdin > 1) problems.push("reads stdin more than once (only the first read gets the content)");
  return { file, mode: file === undefined ? undefined : modes.get(file), problems };
}

/** Problems with how a write script stores its stdin; empty when the file is its owner's alone throughout. */
export function writeScriptProblems(script: string): string[] {
  const w = stdinWrite(script);
  if (w.file === undefined) {
    return [...w.problems, "does not write its stdin with `cat > <file>`, so the pack cannot tell which file gets it or with which mode"];
  }
  const problems = [...w.problems];
  if (w.mode === undefined) problems.push(`leaves ${w.file} without a mode the pack can read (an octal chmod such as 0600)`);
  else if ((w.mode & 0o077) !== 0) problems.push(`gives ${w.file} mode ${octal(w.mode)}, readable beyond its owner`);
  return problems;
}

/** Whether a container upload's permissions keep the file to its owner ("0600", "0400"). */
export function privateUploadMode(permissions: unknown): boolean {
  return typeof permissions === "string" && OCTAL.test(permissions) && (parseInt(permissions, 8) & 0o077) === 0;
}

// ---------------------------------------------------------------------------
// Finding the resources that carry a secret

/**
 * Whether property `prop` of `r` is computed from one of `sources`. Uses the
 * engine's per-property dependencies; when it sent none for the resource
 * (an old engine or state), any dependency counts, but only for properties
 * the resource has.
 */
export function fedFrom(r: PolicyResource, prop: string, sources: ReadonlySet<string>): boolean {
  const perProperty = r.propertyDependencies ?? {};
  if (Object.keys(perProperty).length > 0) return (perProperty[prop] ?? []).some((d) => sources.has(d.urn));
  return dependenciesOf(r).some((d) => sources.has(d.urn));
}

type Report = (message: string, urn?: string) => void;

export interface SecretFileCheck {
  /** The type token of the resources whose outputs are the secret (tls.PrivateKey, random.RandomPassword). */
  readonly sourceType: string;
  /** What the secret is, for messages: "a private key", "a key or password". */
  readonly what: string;
}

const SCRIPT_PROPS = ["create", "update", "delete"] as const;

/**
 * Every command whose stdin comes from the source writes it with mode 0600
 * (and under umask 077); no command has it in its script text; every
 * container whose uploads come from the source uploads with permissions 0600.
 */
export function checkSecretFiles(args: Pick<StackValidationArgs, "resources">, report: Report, check: SecretFileCheck): void {
  const sources = new Set(ofType(args.resources, check.sourceType).map((r) => r.urn));
  if (sources.size === 0) return;
  for (const r of ofType(args.resources, TYPES.localCommand, TYPES.remoteCommand)) {
    const c = settle(r.props as { create?: string; update?: string; delete?: string; stdin?: string });
    const perProperty = Object.keys(r.propertyDependencies ?? {}).length > 0;
    if (perProperty) {
      for (const k of SCRIPT_PROPS) {
        if (fedFrom(r, k, sources)) report(`${r.name}: ${check.what} is part of its ${k} script, which lands in process lists and logs. Fix: feed it on stdin`, r.urn);
      }
    }
    if (c === UNKNOWN) {
      if (fedFrom(r, "stdin", sources)) report(`${r.name}: its scripts are unknown at preview, and it gets ${check.what} on stdin`, r.urn);
      continue;
    }
    if (c.stdin === undefined || !fedFrom(r, "stdin", sources)) continue;
    // With no update script, the provider runs create again on an update.
    for (const k of ["create", "update"] as const) {
      const script = c[k];
      if (script === undefined) continue;
      if (script === UNKNOWN) {
        report(`${r.name}: the ${k} script, which writes ${check.what} from stdin, is unknown at preview`, r.urn);
        continue;
      }
      for (const problem of writeScriptProblems(String(script))) report(`${r.name}: the ${k} script gets ${check.what} on stdin and ${problem}`, r.urn);
    }
  }
  for (const r of ofType(args.resources, TYPES.container)) {
    if (!fedFrom(r, "uploads", sources)) continue;
    const c = settle(r.props as { name?: string; uploads?: { file?: string; permissions?: string }[] });
    const who = nameOf(r.name, c);
    const uploads = c === UNKNOWN ? UNKNOWN : c.uploads;
    if (uploads === UNKNOWN) {
      report(`${who}: its uploads, which hold ${check.what}, are unknown at preview`, r.urn);
      continue;
    }
    // The engine says the uploads as a whole come from the secret, not which one: all must be private.
    for (const u of uploads ?? []) {
      const file = u === UNKNOWN ? UNKNOWN : u.file;
      const permissions = u === UNKNOWN ? UNKNOWN : u.permissions;
      if (!privateUploadMode(permissions)) {
        report(`${who} uploads ${show(file)} with permissions ${show(permissions)}, and its uploads hold ${check.what}; use "0600"`, r.urn);
      }
    }
  }
}
