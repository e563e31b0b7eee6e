// `npm audit --omit=dev`, as the last step of `npm test`: fails on any advisory for a production
// dependency that audit-exceptions.json does not explain. A registry whose audit endpoint does not
// answer (a mirror, a sandbox) leaves the dependencies unaudited: that is said loudly, not hidden,
// and AUDIT_REQUIRED=1 turns it into a failure. AUDIT_REPORT=FILE reads a saved `npm audit --json`
// report instead of running npm; AUDIT_EXCEPTIONS=FILE names another exceptions file (both: tests).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const run = process.env.AUDIT_REPORT
  ? { stdout: readFileSync(process.env.AUDIT_REPORT, 'utf8'), stderr: '', status: 0 }
  : spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = { message: (run.stderr || run.stdout || `exit ${run.status}`).trim() };
}

if (report.vulnerabilities === undefined) {
  console.error(`audit: production dependencies NOT audited: the audit endpoint failed (${report.message ?? 'no report'})`);
  process.exit(process.env.AUDIT_REQUIRED === '1' ? 1 : 0);
}

/** Advisory URL → why it does not affect prome-route. */
const explained = JSON.parse(readFileSync(process.env.AUDIT_EXCEPTIONS ?? new URL('../audit-exceptions.json', import.meta.url), 'utf8'));
const unexplained = [];
for (const [name, v] of Object.entries(report.vulnerabilities)) {
  for (const via of v.via.filter((x) => typeof x === 'object')) {
    const line = `${name} (${via.severity}): ${via.title} ${via.url}`;
    if (explained[via.url] !== undefined) console.log(`audit: explained: ${line}: ${explained[via.url]}`);
    else unexplained.push(line);
  }
}
for (const line of unexplained) console.error(`audit: ${line}`);
console.log(`audit: ${Object.keys(report.vulnerabilities).length} vulnerable production packages, ${unexplained.length} advisories unexplained`);
process.exit(unexplained.length > 0 ? 1 : 0);
