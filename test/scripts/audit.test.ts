// scripts/audit.mjs reads npm's audit report: fed saved reports here, since the registry's audit
// endpoint is not reachable from every machine that runs the tests.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ADVISORY = 'https://github.com/advisories/GHSA-xxxx-yyyy-zzzz';
const VULNERABLE = {
  auditReportVersion: 2,
  vulnerabilities: { somepkg: { name: 'somepkg', severity: 'high', via: [{ title: 'Prototype pollution', url: ADVISORY, severity: 'high' }, 'otherpkg'] } },
  metadata: { vulnerabilities: { total: 1 } },
};

async function audit(report: unknown, exceptions: Record<string, string> = {}, env: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-'));
  await writeFile(path.join(dir, 'report.json'), JSON.stringify(report));
  await writeFile(path.join(dir, 'exceptions.json'), JSON.stringify(exceptions));
  const environment = { ...process.env, AUDIT_REPORT: path.join(dir, 'report.json'), AUDIT_EXCEPTIONS: path.join(dir, 'exceptions.json'), ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/audit.mjs'], { env: environment });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('scripts/audit.mjs', () => {
  it('passes a clean report', async () => {
    expect(await audit({ auditReportVersion: 2, vulnerabilities: {}, metadata: {} })).toEqual({ code: 0, output: 'audit: 0 vulnerable production packages, 0 advisories unexplained\n' });
  });

  it('fails on an advisory nobody explained, and passes it once explained', async () => {
    const failed = await audit(VULNERABLE);
    expect(failed.code).toBe(1);
    expect(failed.output).toContain(`somepkg (high): Prototype pollution ${ADVISORY}`);
    const explained = await audit(VULNERABLE, { [ADVISORY]: 'only reached through the CLI, never with untrusted input' });
    expect(explained.code).toBe(0);
    expect(explained.output).toContain('explained: somepkg (high)');
  });

  it('says loudly that nothing was audited when the endpoint fails, and fails if an audit is required', async () => {
    const down = { message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405 };
    expect(await audit(down)).toEqual({ code: 0, output: `audit: production dependencies NOT audited: the audit endpoint failed (${down.message})\n` });
    expect((await audit(down, {}, { AUDIT_REQUIRED: '1' })).code).toBe(1);
  });
});
