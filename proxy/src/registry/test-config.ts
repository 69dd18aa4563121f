import { normalizeDocuments, type OrchardConfig } from '../config/index.ts';

/** An OrchardConfig of Remote specs by name, validated like real config (for unit tests). */
export function configOf(remotes: Record<string, Record<string, unknown>>): OrchardConfig {
  return normalizeDocuments(
    Object.entries(remotes).map(([name, spec], i) => ({
      file: 'test',
      index: i + 1,
      object: { apiVersion: 'orchard.dev/v1alpha1', kind: 'Remote', metadata: { name }, spec },
    })),
  );
}
