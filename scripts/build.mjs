// Bundles the CLI and the two cloud functions with esbuild. Runs on `npm ci` (prepare) and before the tests.
import { build } from 'esbuild';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';

// Some dependencies (yaml) are CommonJS and require Node built-ins; give the ESM bundles a require.
const requireShim = "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

const node = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };

// The AWS bundle imports remote read's codecs from a file beside it rather than bundling them (below).
const CODECS_FILE = 'remote-read-codecs.mjs';
const besideTheBundle = {
  name: 'codecs-beside-the-bundle',
  setup(b) {
    b.onResolve({ filter: /^\.\/codecs\.ts$/ }, (args) => (args.importer.endsWith('load-codecs.ts') ? { path: `./${CODECS_FILE}`, external: true } : undefined));
  },
};

// Chunk names carry a content hash: without this, every build would leave the old ones behind.
await rm('dist/chunks', { recursive: true, force: true });
await Promise.all(['dist/aws/node_modules', 'dist/aliyun/node_modules'].map((dir) => rm(dir, { recursive: true, force: true })));

await Promise.all([
  build({
    ...node,
    entryPoints: { cli: 'cli/main.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    banner: { js: `#!/usr/bin/env node\n${requireShim}` },
    sourcemap: true,
    // The cloud SDKs (imported only by `shards` commands and cloud sources) go to chunks of their
    // own, loaded when first used: `serve` then starts without parsing them, and uses less memory.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // ES module builds where packages have them (the AWS SDK's CommonJS build, imported from a
    // chunk, comes through as a default export only; as on AWS below).
    mainFields: ['module', 'main'],
    // `shards diff/push --oss` bundle ali-oss, whose urllib requires proxy-agent only with
    // URLLIB_ENABLE_PROXY set (as in the Alibaba Cloud bundle below).
    external: ['proxy-agent'],
  }),
  // Lambda, nodejs24.x: `handler: dist/aws/index.handler`. The AWS SDK is bundled rather than taken
  // from the runtime: the SSM client that was tested is the one that runs (the runtime's copy changes
  // with Lambda's updates). Its ES module builds (`module`, not Node's default `main`) tree-shake,
  // which keeps the bundle under 1 MB. The Alibaba clients (OSS, OOS) are imported only when an
  // Alibaba source is configured, which never happens on AWS.
  build({
    ...node,
    entryPoints: ['functions/aws/index.ts'],
    outfile: 'dist/aws/index.mjs',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: requireShim },
    minify: true,
    external: ['ali-oss', '@alicloud/*', '@redis/client'],
    plugins: [besideTheBundle],
  }),
  // Remote read's codecs (lib/replicas/codecs.ts: pbf, snappyjs, the XOR chunk decoder), beside the
  // AWS bundle: loaded on the first read of a shard in "merge" mode (lib/replicas/load-codecs.ts),
  // parsed by no other cold start.
  build({
    ...node,
    entryPoints: ['lib/replicas/codecs.ts'],
    outfile: `dist/aws/${CODECS_FILE}`,
    format: 'esm',
    minify: true,
  }),
  // FC 3.0, nodejs20: `handler: index.handler` in dist/aliyun. FC loads a .js handler as CommonJS.
  // ali-oss and @alicloud/pop-core (OOS) are bundled for the same reason as the AWS SDK above (FC's
  // runtime has older copies);
  // the AWS SDK is imported only when an SSM source is configured, which never happens on FC, and
  // urllib (ali-oss's HTTP client) requires proxy-agent only with URLLIB_ENABLE_PROXY set.
  build({
    ...node,
    entryPoints: ['functions/aliyun/index.ts'],
    outfile: 'dist/aliyun/index.js',
    format: 'cjs',
    minify: true,
    external: ['@aws-sdk/*', 'proxy-agent', '@redis/client'],
  }),
  // The Redis client of the results cache, beside each function bundle rather than in it: loaded only
  // when RESULTS_CACHE_URL names a Redis, so the cold start of every other deployment does not parse
  // it (half a megabyte). One minified file each, in node_modules where Node resolves it from the bundle.
  ...['dist/aws', 'dist/aliyun'].map((dir) => build({
    ...node,
    entryPoints: ['node_modules/@redis/client/dist/index.js'],
    outfile: `${dir}/node_modules/@redis/client/index.js`,
    format: 'cjs',
    minify: true,
  })),
]);
for (const dir of ['dist/aws', 'dist/aliyun']) {
  await writeFile(`${dir}/node_modules/@redis/client/package.json`, '{ "name": "@redis/client", "main": "index.js" }\n');
}

// The package's bin: executable, as `npm link` and direct runs expect (esbuild's splitting leaves it 0644).
await chmod('dist/cli.mjs', 0o755);

// Without it, this repository's "type": "module" would make Node read dist/aliyun/index.js as an ES
// module here (tests, local runs); deployed alongside it, it states what FC assumes anyway.
await mkdir('dist/aliyun', { recursive: true });
await writeFile('dist/aliyun/package.json', '{ "type": "commonjs" }\n');
