// The end-to-end tests start the real CLI from dist/: bundle it from the current sources first, so
// a test never runs yesterday's build.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
