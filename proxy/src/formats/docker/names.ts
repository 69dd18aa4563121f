import type { RemoteConfig } from '../../config/index.ts';
import type { ExpectedDigest } from '../format.ts';

/**
 * Repository names, tags and digests as the OCI distribution spec defines
 * them ("Pulling manifests": `<name>`; "Pushing manifests": tags; image-spec
 * descriptor digests).
 */
const namePattern = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const digestPattern = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** A digest of any registered or unregistered algorithm, as the image spec's grammar allows. */
const anyDigestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** The spec's limit on a name's length, counting the registry host (kept for clients that include it). */
export const maxNameLength = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= maxNameLength && namePattern.test(name);
}

export function isTag(ref: string): boolean {
  return tagPattern.test(ref);
}

/** Well-formed digest syntax, whatever the algorithm (`sha256:…`, `sha512:…`, `foo+bar:…`). */
export function looksLikeDigest(ref: string): boolean {
  return anyDigestPattern.test(ref);
}

/** A digest Orchard can verify: sha256 or sha512, lower-case hex of the right length. */
export function parseDigest(ref: string): ExpectedDigest | undefined {
  if (!digestPattern.test(ref)) return undefined;
  const [algorithm, hex] = ref.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex };
}

/** The sha256 hex of a `sha256:…` digest, or `undefined` for any other string. */
export function sha256Of(ref: string): string | undefined {
  const d = parseDigest(ref);
  return d?.algorithm === 'sha256' ? d.hex : undefined;
}

/**
 * Host names that mean Docker Hub. `docker.io` is what image references and
 * containerd's `ns` say; the registry API itself answers on `registry-1`.
 * This is the one place the docker.io → registry mapping is written down.
 */
export const dockerHubHosts: readonly string[] = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
export const dockerHubRegistryUrl = 'https://registry-1.docker.io';

/** `docker.io` for any Docker Hub alias, else the host unchanged (lower case). */
export function canonicalRegistryHost(host: string): string {
  const h = host.toLowerCase();
  return dockerHubHosts.includes(h) ? 'docker.io' : h;
}

/** Whether the remote's upstream is Docker Hub: it mirrors docker.io, or its baseUrl is a Hub host. */
export function isDockerHub(remote: RemoteConfig): boolean {
  if (remote.mirrorOf.some((h) => canonicalRegistryHost(h) === 'docker.io')) return true;
  if (!remote.baseUrl) return false;
  try {
    return canonicalRegistryHost(new URL(remote.baseUrl).hostname) === 'docker.io';
  } catch {
    return false;
  }
}

/**
 * Docker Hub's `library/` rule: official images have a one-segment short
 * name (`nginx`) that lives at `library/nginx`. Applied only when the remote
 * is Docker Hub, so both spellings share one cache entry.
 */
export function canonicalRepository(remote: RemoteConfig, name: string): string {
  return !name.includes('/') && isDockerHub(remote) ? `library/${name}` : name;
}
