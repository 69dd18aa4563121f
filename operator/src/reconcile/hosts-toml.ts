/**
 * containerd registry host configuration (hosts.toml, containerd 1.5+,
 * https://github.com/containerd/containerd/blob/main/docs/hosts.md) for every
 * registry host a docker Remote mirrors.
 *
 * containerd reads `<certs.d>/<host>/hosts.toml`. ConfigMap keys cannot hold
 * `/` (nor `:`), so each file is the key `<host>_hosts.toml`, with a `:`
 * before a port written `..` (`registry.local:5000` ->
 * `registry.local..5000_hosts.toml`). The node DaemonSet turns a key back into
 * `<dir>/hosts.toml` by dropping `_hosts.toml` and replacing `..` with `:`
 * (hostnames never contain `..`).
 *
 * The mirror is tried first for pull and resolve; when it fails containerd
 * falls back to `server`, the registry itself.
 */
export interface MirrorEndpoint {
  /** URL containerd on the nodes dials for the proxy (node-reachable: ClusterIP, NodePort, host port). */
  url: string;
  /** Skip TLS verification of an https mirror (self-signed certificates). */
  skipVerify?: boolean;
}

export const hostsKeySuffix = '_hosts.toml';

export function hostsKey(host: string): string {
  return `${host.replace(/:/g, '..')}${hostsKeySuffix}`;
}

export function hostFromKey(key: string): string {
  return key.slice(0, -hostsKeySuffix.length).replace(/\.\./g, ':');
}

/** The registry's own address, used when the mirror fails. */
export function upstreamServer(host: string): string {
  // docker.io is not itself a registry endpoint; its API is served from this host.
  if (host === 'docker.io') return 'https://registry-1.docker.io';
  return `https://${host}`;
}

/** `{ key: hosts.toml content }` for every mirrored host, sorted by key. */
export function renderHostsToml(
  remotes: Iterable<{ name: string; mirrorOf: readonly string[] }>,
  endpoint: MirrorEndpoint,
): Record<string, string> {
  const files: [string, string][] = [];
  const base = new URL(endpoint.url);
  // A mirror URL with a path is used verbatim (override_path), else containerd appends /v2/.
  const overridePath = base.pathname !== '/' && base.pathname !== '';
  const hostUrl = endpoint.url.replace(/\/+$/, '');
  for (const r of remotes) {
    for (const host of r.mirrorOf) {
      const lines = [
        `# Rendered by orchard-operator from Remote ${r.name}; do not edit.`,
        `server = ${quote(upstreamServer(host))}`,
        '',
        `[host.${quote(hostUrl)}]`,
        '  capabilities = ["pull", "resolve"]',
      ];
      if (endpoint.skipVerify) lines.push('  skip_verify = true');
      if (overridePath) lines.push('  override_path = true');
      files.push([hostsKey(host), `${lines.join('\n')}\n`]);
    }
  }
  files.sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(files);
}

function quote(s: string): string {
  return JSON.stringify(s);
}
