import { parse } from 'yaml';
import type { FormatMetadata, MetadataExtractor } from '../extractor.ts';
import { ExtractError } from '../extractor.ts';
import { compact } from '../text.ts';
import { findInTar, probeWindow } from './tar-scan.ts';

/** Helm chart archives (`helm package`): `<chart>/Chart.yaml`, which helm writes first. */
export const helmExtractor: MetadataExtractor = {
  name: 'helm',
  claim: ({ filename, head, declaredFormat }) => {
    if (head[0] !== 0x1f || head[1] !== 0x8b) return 0;
    if (declaredFormat === 'helm') return 10;
    return filename.endsWith('.tgz') ? 4 : 0;
  },
  extract: async (source, ctx) => {
    const hit = await findInTar(
      source,
      ctx,
      (entry) => {
        const parts = entry.path.split('/');
        return parts.length === 2 && parts[1] === 'Chart.yaml' && entry.type === 'file' ? 'take' : 'skip';
      },
      ctx.declaredFormat === 'helm' ? undefined : probeWindow,
    );
    if (!hit) return undefined;
    return describe(hit.body);
  },
};

function describe(body: Buffer): FormatMetadata {
  let chart: Record<string, unknown>;
  try {
    // The yaml package caps alias expansion (maxAliasCount 100), which stops "billion laughs" documents.
    chart = parse(body.toString('utf8'), { maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (err) {
    throw new ExtractError(`Chart.yaml is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof chart !== 'object' || chart === null || typeof chart.name !== 'string') {
    throw new ExtractError('Chart.yaml has no name');
  }
  const deps = Array.isArray(chart.dependencies) ? chart.dependencies : undefined;
  return compact({
    package_name: chart.name,
    version: scalar(chart.version),
    app_version: scalar(chart.appVersion),
    api_version: scalar(chart.apiVersion),
    description: scalar(chart.description),
    type: scalar(chart.type),
    kube_version: scalar(chart.kubeVersion),
    home: scalar(chart.home),
    dependencies: deps?.map((d: Record<string, unknown>) =>
      compact({ name: scalar(d?.name), version: scalar(d?.version), repository: scalar(d?.repository) }),
    ),
  });
}

/** YAML may type `version: 1.0` as a number; metadata keeps it as text. */
function scalar(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}
