import type { RemoteConfig } from '../../config/index.ts';
import type { BuiltinClass, ChecksumSource, DigestAlgorithm, Format } from '../format.ts';
import { registerFormat } from '../registry.ts';
import { joinUrl } from '../url.ts';

const sidecarSuffix = '.sha256';
const sidecarAlgorithm: DigestAlgorithm = 'sha256';

/**
 * Arbitrary HTTP file servers (GitHub releases, HashiCorp, custom servers):
 * no built-in rules, the remote's patterns decide everything, and paths map
 * 1:1 onto `baseUrl`. With `options.checksumSidecar`, each artifact is
 * verified against `{path}.sha256` (in `sha256sum` format) when the upstream
 * publishes one.
 */
export const genericFormat: Format = {
  name: 'generic',
  classify(_path: string): BuiltinClass | undefined {
    return undefined;
  },
  upstreamUrl(remote: RemoteConfig, path: string): string {
    if (!remote.baseUrl) throw new Error(`remote ${remote.name} has no baseUrl`);
    return joinUrl(remote.baseUrl, path);
  },
  checksumSource(remote: RemoteConfig, path: string): ChecksumSource | undefined {
    if (remote.options?.checksumSidecar !== true || path.endsWith('/')) return undefined;
    // A request for the sidecar itself has no sidecar of its own.
    if (path.endsWith(sidecarSuffix)) return undefined;
    const fileName = path.slice(path.lastIndexOf('/') + 1);
    return {
      url: genericFormat.upstreamUrl(remote, `${path}${sidecarSuffix}`),
      algorithm: sidecarAlgorithm,
      parse: (body) => parseChecksumFile(body, fileName, 64),
    };
  },
};

/**
 * The digest for `fileName` in `sha256sum`-style text: either a bare digest,
 * or lines of `<hex> [*]<name>`. With several lines, only the one naming the
 * file counts (a SHA256SUMS file); a lone line counts whatever it names.
 */
export function parseChecksumFile(body: string, fileName: string, length: number): string | undefined {
  const lines = body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const digestOf = (line: string) => {
    const hex = line.split(/\s+/)[0]?.toLowerCase() ?? '';
    return hex.length === length && /^[0-9a-f]+$/.test(hex) ? hex : undefined;
  };
  for (const line of lines) {
    const name = line.split(/\s+/)[1]?.replace(/^\*/, '');
    if (name !== undefined && (name === fileName || name.endsWith(`/${fileName}`))) return digestOf(line);
  }
  return lines.length === 1 ? digestOf(lines[0]!) : undefined;
}

registerFormat(genericFormat);
