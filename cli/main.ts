// The prome-route command line: serve, explain, shards (validate, diff, push), tenants (add), check.
import { parseArgs } from 'node:util';
import { PromQLSyntaxError } from '../lib/promql/parse.ts';
import { loadShardMapFile } from '../lib/shards/file.ts';
import { ShardMapError } from '../lib/shards/schema.ts';
import { CacheSettingsError } from '../lib/cache/config.ts';
import { VERSION } from '../lib/version.ts';
import { CHECK_USAGE, checkCommand } from './check.ts';
import { explain } from './explain.ts';
import { parseListenAddress, parseTimeoutSeconds, reloadOnHangup, serve } from './serve.ts';
import { CommandError, SHARDS_USAGE, shardsCommand, UsageError } from './shards.ts';
import { TENANTS_USAGE, tenantsCommand } from './tenants.ts';

const USAGE = `prome-route ${VERSION}: one Prometheus API in front of per-cluster Prometheus collectors

Usage:
  prome-route serve --shards FILE [--listen HOST:PORT] [--timeout SECONDS]
                    [--max-samples N] [--max-collector-bytes N]
                    [--cache memory|off|redis://HOST:PORT/DB] [--cache-bytes N] [--cache-freshness SECONDS]
                    [--cache-timeout MS]
      Serve the Prometheus HTTP API. FILE is a shard map (JSON or YAML) or the upstream
      proxy's YAML config. Default listen address: its http.listen_addr, else 127.0.0.1:9091.
      Reloads FILE on SIGHUP. The limits' defaults suit a 512 MB function (1500000 samples,
      33554432 bytes of collector answers read whole per request). Range query answers are
      cached by extents (default: in memory, 67108864 bytes; the last 600 s never); a cache call
      slower than --cache-timeout (default 200 ms) is given up and the answer computed.
  prome-route explain --shards FILE 'QUERY'
      Print the shards a query goes to and the query each of them is sent.
${SHARDS_USAGE}${TENANTS_USAGE}${CHECK_USAGE}  prome-route --version
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === 'version') return void console.log(VERSION);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return void process.stdout.write(USAGE);
  if (command === 'shards' || command === 'check') {
    process.exitCode = await (command === 'shards' ? shardsCommand : checkCommand)(rest);
    return;
  }
  if (command === 'tenants') {
    process.exitCode = tenantsCommand(rest);
    return;
  }
  const { values, positionals } = parseArgs({
    args: withNegativeValues(rest, ['--timeout', '--max-samples', '--max-collector-bytes']),
    options: {
      shards: { type: 'string' }, listen: { type: 'string' }, timeout: { type: 'string' },
      'max-samples': { type: 'string' }, 'max-collector-bytes': { type: 'string' },
      cache: { type: 'string' }, 'cache-bytes': { type: 'string' }, 'cache-freshness': { type: 'string' },
      'cache-timeout': { type: 'string' },
    },
    allowPositionals: true,
  });
  if (values.shards === undefined) throw new UsageError('--shards FILE is required');
  const timeoutMs = values.timeout === undefined ? undefined : parseTimeoutSeconds(values.timeout);
  const limits = {
    ...(values['max-samples'] === undefined ? {} : { maxSamples: positiveInteger('--max-samples', values['max-samples']) }),
    ...(values['max-collector-bytes'] === undefined ? {} : { maxCollectorBytes: positiveInteger('--max-collector-bytes', values['max-collector-bytes']) }),
  };
  const cache = {
    ...(values.cache === undefined ? {} : { url: values.cache }),
    ...(values['cache-bytes'] === undefined ? {} : { maxBytes: positiveInteger('--cache-bytes', values['cache-bytes']) }),
    ...(values['cache-freshness'] === undefined ? {} : { freshnessMs: 1000 * nonNegativeInteger('--cache-freshness', values['cache-freshness']) }),
    ...(values['cache-timeout'] === undefined ? {} : { timeoutMs: positiveInteger('--cache-timeout', values['cache-timeout']) }),
  };
  const { map, listen } = await loadShardMapFile(values.shards);

  if (command === 'explain') {
    if (positionals.length !== 1) throw new UsageError("explain takes exactly one query argument, e.g. 'up{cluster=\"a\"}'");
    console.log(explain(map, positionals[0]!));
    return;
  }
  if (command === 'serve') {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const { host, port } = parseListenAddress(values.listen ?? listen ?? '127.0.0.1:9091');
    const serving = await serve({ map, host, port, timeoutMs, limits, cache });
    const { server, address } = serving;
    console.log(JSON.stringify({
      level: 'info', msg: 'prome-route listening', address: `${address.address}:${address.port}`,
      shardLabel: map.shardLabel, shards: [...map.shards.keys()], version: VERSION,
    }));
    // The listen address and the timeout stay as started; the shard map follows the file on SIGHUP.
    reloadOnHangup(values.shards, serving);
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)}`);
}

function positiveInteger(option: string, value: string): number {
  const n = nonNegativeInteger(option, value, 'a positive integer');
  if (n <= 0) throw new UsageError(`${option} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function nonNegativeInteger(option: string, value: string, what = 'an integer of at least 0'): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`${option} must be ${what}, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * parseArgs reads `--timeout -1` as a missing value followed by an option; a number after an option
 * that takes one is its value, so that the value's own check can say what is wrong with it.
 */
function withNegativeValues(args: readonly string[], options: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (options.includes(args[i]!) && next !== undefined && /^-\d/.test(next)) out.push(`${args[i]}=${args[++i]}`);
    else out.push(args[i]!);
  }
  return out;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // node:util's parseArgs refuses unknown options and values that look like options (`--timeout -1`).
  // A cache setting the serve command cannot use (--cache with an unknown scheme, ...) is a usage error too.
  if (err instanceof UsageError || err instanceof CacheSettingsError || String((err as NodeJS.ErrnoException)?.code).startsWith('ERR_PARSE_ARGS_')) {
    process.stderr.write(`prome-route: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (err instanceof CommandError) {
    process.stderr.write(`prome-route: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof ShardMapError) {
    process.stderr.write(`prome-route: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof PromQLSyntaxError) {
    process.stderr.write(`prome-route: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`prome-route: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
