import { describe, expect, it } from 'vitest';
import {
  ensurePackages,
  findBinary,
  findPostgresBinDir,
  missingPackages,
  REQUIRED_PACKAGES,
  type Requirement,
} from '../../hack/lib/packages.ts';

const absent: Requirement = { pkg: 'orchard-no-such-pkg', bins: ['orchard-no-such-binary'], for: 'nothing' };
const present: Requirement = { pkg: 'coreutils', bins: ['ls'], for: 'the shell' };

describe('hack/lib/packages', () => {
  it('lists each package once, with at least one binary and a purpose', () => {
    const names = REQUIRED_PACKAGES.map((r) => r.pkg);
    expect(new Set(names).size).toBe(names.length);
    for (const r of REQUIRED_PACKAGES) {
      expect(r.bins.length, r.pkg).toBeGreaterThan(0);
      expect(r.for, r.pkg).not.toBe('');
    }
  });

  it('finds binaries on PATH and the sbin directories, and not made-up ones', () => {
    expect(findBinary('sh')).toMatch(/\/sh$/);
    expect(findBinary('orchard-no-such-binary')).toBeUndefined();
  });

  it('honours ORCHARD_TEST_PG_BIN', () => {
    expect(findPostgresBinDir({ ORCHARD_TEST_PG_BIN: '/opt/pg/bin' })).toBe('/opt/pg/bin');
  });

  it('reports only the missing packages', () => {
    expect(missingPackages([present, absent])).toEqual(['orchard-no-such-pkg']);
  });

  it('does nothing when everything is present', async () => {
    const logs: string[] = [];
    expect(await ensurePackages((m) => logs.push(m), { packages: [present], canInstall: false })).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('without root, fails naming each missing package and the apt-get line to run', async () => {
    const run = ensurePackages(() => {}, { packages: [present, absent], canInstall: false });
    await expect(run).rejects.toThrow(
      /missing Debian packages:\n {2}orchard-no-such-pkg +nothing\n[\s\S]*apt-get install -y --no-install-recommends orchard-no-such-pkg$/,
    );
  });
});
