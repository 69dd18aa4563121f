import { load } from 'js-yaml';

/**
 * What `helm repo add` and `helm pull` send, without a helm binary (none can
 * be had here): `GET {repo}/index.yaml`, then `GET` of the chart's first URL
 * resolved as helm resolves it (repo.ResolveReferenceURL: relative URLs
 * against the repository URL with a trailing slash added).
 */
export async function helmRepoIndex(
  repoUrl: string,
): Promise<{ status: number; index?: HelmIndex; source?: string | null }> {
  const res = await fetch(`${repoUrl.replace(/\/$/, '')}/index.yaml`, {
    headers: { 'user-agent': 'Helm/3.16.0' },
  });
  if (res.status !== 200) return { status: res.status };
  return {
    status: 200,
    index: load(await res.text()) as HelmIndex,
    source: res.headers.get('x-artifact-source'),
  };
}

export interface HelmIndex {
  entries: Record<
    string,
    { name: string; version: string; urls: string[]; digest?: string; created?: string }[]
  >;
}

export function resolveChartUrl(repoUrl: string, chartUrl: string): string {
  const base = new URL(repoUrl);
  base.pathname = `${base.pathname.replace(/\/$/, '')}/`;
  return new URL(chartUrl, base).toString();
}

/** `helm pull {repo}/{name} --version {version}`: the chart bytes, or the failure. */
export async function helmPull(
  repoUrl: string,
  name: string,
  version: string,
): Promise<{ status: number; bytes?: Buffer; url?: string; source?: string | null; aborted?: boolean }> {
  const { status, index } = await helmRepoIndex(repoUrl);
  if (!index) return { status };
  const entry = index.entries[name]?.find((e) => e.version === version);
  if (!entry) return { status: 404 };
  const url = resolveChartUrl(repoUrl, entry.urls[0]!);
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'user-agent': 'Helm/3.16.0' } });
  } catch {
    return { status: 0, url, aborted: true };
  }
  try {
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, bytes, url, source: res.headers.get('x-artifact-source') };
  } catch {
    return { status: res.status, url, aborted: true };
  }
}
