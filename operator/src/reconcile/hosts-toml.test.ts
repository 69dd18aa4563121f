import { describe, expect, it } from 'vitest';
import { hostFromKey, hostsKey, renderHostsToml } from './hosts-toml.ts';

describe('containerd hosts.toml rendering', () => {
  it.each([
    ['docker.io', 'docker.io_hosts.toml'],
    ['registry.local:5000', 'registry.local..5000_hosts.toml'],
    ['ghcr.io', 'ghcr.io_hosts.toml'],
  ])('maps %s to a ConfigMap key and back', (host, key) => {
    expect(hostsKey(host)).toBe(key);
    expect(hostFromKey(key)).toBe(host);
    expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
  });

  it('writes server, the mirror host with pull and resolve, and sorts by key', () => {
    const files = renderHostsToml(
      [
        { name: 'quay', mirrorOf: ['quay.io'] },
        { name: 'hub', mirrorOf: ['docker.io'] },
      ],
      { url: 'http://10.0.0.1:8080/' },
    );
    expect(Object.keys(files)).toEqual(['docker.io_hosts.toml', 'quay.io_hosts.toml']);
    expect(files['docker.io_hosts.toml']).toBe(
      [
        '# Rendered by orchard-operator from Remote hub; do not edit.',
        'server = "https://registry-1.docker.io"',
        '',
        '[host."http://10.0.0.1:8080"]',
        '  capabilities = ["pull", "resolve"]',
        '',
      ].join('\n'),
    );
    expect(files['quay.io_hosts.toml']).toContain('server = "https://quay.io"');
  });

  it('adds skip_verify and override_path when asked or when the mirror URL has a path', () => {
    const files = renderHostsToml([{ name: 'hub', mirrorOf: ['docker.io'] }], {
      url: 'https://mirror.example.com/v2/hub',
      skipVerify: true,
    });
    expect(files['docker.io_hosts.toml']).toContain('[host."https://mirror.example.com/v2/hub"]');
    expect(files['docker.io_hosts.toml']).toContain('  skip_verify = true\n  override_path = true\n');
  });
});
