import module, { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

/**
 * Settings of the CLI's own Node process that make it start sooner, applied
 * before any other module of authdb or of its dependencies loads. None of
 * them changes what a command does or checks; each is measured in README
 * "Performance" (`BENCH_ONLY=cli npm run bench`).
 */
export function tuneCliProcess(): void {
  // Node ≥ 22.1 keeps the compiled code of the modules it loads in a cache on
  // disk (NODE_COMPILE_CACHE's directory, else the OS temp directory), so later
  // runs skip compiling them. Node 20 has no such cache and runs on without it.
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  // The SQL parser is libpg_query compiled to WebAssembly (1.7 MB). V8 first
  // compiles it with its baseline compiler and then recompiles what runs often
  // with its optimizing one, on background threads: for a run as short as a
  // CLI command that recompilation costs more than it saves (on 2 cores the
  // first parses of the shipped files take 3-5 times longer, and even a 4 MB
  // file parses faster without it). Set before the module is compiled; it
  // applies to no other code.
  setFlagsFromString('--liftoff-only');
  // pg (lib/stream.js) asks whether it runs in a Cloudflare Worker when it
  // loads: where `navigator` is missing (Node 20; Node ≥ 21 defines it) it
  // builds a `Response`, which loads Node's whole fetch implementation
  // (undici), ~50 ms. Node 21's own `navigator.userAgent` answers it at once.
  standInForUmzugCli();
  if (!('navigator' in globalThis)) {
    Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0] ?? ''}` }, configurable: true, writable: true });
  }
}

/**
 * umzug's `lib/umzug.js` requires its own command-line interface (`lib/cli.js`,
 * and with it `@rushstack/ts-command-line`: 130-300 ms of a `migrate up` here)
 * whether or not it is used, for `Umzug#getCli()`, which authdb never calls.
 * In the CLI's process only (an application's own umzug is left alone), that
 * module is stood in for by one whose `UmzugCLI` says so if it is ever built.
 */
function standInForUmzugCli(): void {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve('umzug/lib/cli.js');
  } catch {
    return;
  }
  if (require.cache[path]) return;
  const standIn = new module.Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = { UmzugCLI: umzugCliStandIn };
  require.cache[path] = standIn;
}

function umzugCliStandIn(): never {
  throw new Error("internal error: umzug's own command-line interface is not loaded in the authdb CLI");
}
