import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/resources.ts';
import { evaluate, type Snapshot } from './evaluate.ts';

const obj = (
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  extra: Partial<KubeObject['metadata']> = {},
) =>
  ({
    apiVersion: 'orchard.dev/v1alpha1',
    kind,
    metadata: { name, generation: 1, ...extra },
    spec,
  }) as KubeObject;
const remote = (name: string, spec: Record<string, unknown> = {}) =>
  obj('Remote', name, {
    type: 'remote',
    package: 'generic',
    baseUrl: `https://${name}.example.com`,
    ...spec,
  });

function snapshot(s: Partial<Snapshot>): Snapshot {
  return {
    remotes: [],
    virtuals: [],
    projects: [],
    packages: [],
    secret: () => undefined,
    secretNamespaces: ['orchard-system'],
    mirror: { url: 'http://127.0.0.1:30080' },
    ...s,
  };
}

const ready = (ev: ReturnType<typeof evaluate>, key: string) => ev.verdicts.get(key)?.conditions[0];

describe('evaluate', () => {
  it('leaves out what depends on an invalid resource, transitively, and keeps the rest', () => {
    const ev = evaluate(
      snapshot({
        remotes: [remote('good'), remote('bad', { mutablePatterns: ['(['] })],
        virtuals: [obj('VirtualRepository', 'v', { package: 'generic', members: ['good', 'bad'] })],
        projects: [obj('Project', 'p', { description: 'x', isPublic: 7 })],
        packages: [obj('Package', 'pk', { project: 'p' })],
      }),
    );
    expect([...ev.config.remotes.keys()]).toEqual(['good']);
    expect(ev.config.virtuals.size).toBe(0);
    expect(ready(ev, 'Remote/bad')).toMatchObject({ status: 'False', reason: 'InvalidPattern' });
    expect(ready(ev, 'VirtualRepository/v')).toMatchObject({ status: 'False', reason: 'MemberNotReady' });
    expect(ready(ev, 'Project/p')).toMatchObject({ status: 'False', reason: 'SchemaViolation' });
    expect(ready(ev, 'Package/pk')).toMatchObject({ status: 'False', reason: 'ProjectNotReady' });
    expect(ready(ev, 'Remote/good')).toMatchObject({ status: 'True', reason: 'Rendered' });
    expect(ev.configYaml).toContain('name: good');
    expect(ev.configYaml).not.toContain('name: bad');
  });

  it('excludes resources being deleted and records the generation it judged', () => {
    const ev = evaluate(
      snapshot({
        remotes: [
          remote('a'),
          remote('b', {}),
          {
            ...remote('gone'),
            metadata: { name: 'gone', generation: 4, deletionTimestamp: '2026-01-01T00:00:00Z' },
          },
        ],
      }),
    );
    expect([...ev.judged.entries()]).toEqual([
      ['Remote/a', '1'],
      ['Remote/b', '1'],
    ]);
  });

  it('passes credentials from the referenced Secret to the credentials document only', () => {
    const secret = {
      metadata: { name: 's', namespace: 'orchard-system' },
      data: { token: Buffer.from('tok-123').toString('base64') },
    };
    const ev = evaluate(
      snapshot({
        remotes: [remote('r', { auth: { secretRef: { name: 's' } } })],
        secret: (ns, name) => (ns === 'orchard-system' && name === 's' ? (secret as KubeObject) : undefined),
      }),
    );
    expect(ready(ev, 'Remote/r')).toMatchObject({ status: 'True' });
    expect(ev.credentialsYaml).toContain('tok-123');
    expect(ev.configYaml).not.toContain('tok-123');
    expect(ev.config.credentials('r')?.token).toBe('tok-123');
  });
});
