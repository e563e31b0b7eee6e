// Bundles the CLI with esbuild. Runs on `npm ci` (prepare) and before the tests.
import { build } from 'esbuild';

// Some dependencies (yaml) are CommonJS and require Node built-ins; give the ESM bundles a require.
const requireShim = "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

await build({
  entryPoints: { cli: 'cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: `#!/usr/bin/env node\n${requireShim}` },
  sourcemap: true,
  logLevel: 'warning',
});
