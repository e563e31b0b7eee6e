// Bundles the CLI (and, later, each platform's handler) with esbuild. Runs on `npm ci` (prepare).
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Some dependencies (yaml) are CommonJS and require Node built-ins; give the ESM bundle a require.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
