import { apkExtractor } from './formats/apk.ts';
import { debExtractor } from './formats/deb.ts';
import { helmExtractor } from './formats/helm.ts';
import { jarExtractor } from './formats/jar.ts';
import { npmExtractor } from './formats/npm.ts';
import { rpmExtractor } from './formats/rpm.ts';
import { tarballExtractor } from './formats/tarball.ts';
import { wheelExtractor } from './formats/wheel.ts';
import { zipExtractor } from './formats/zip.ts';
import { ExtractorRegistry } from './run.ts';

export type { ArtifactSource, ExtractLimits, FormatMetadata, MetadataExtractor } from './extractor.ts';
export { defaultLimits, ExtractError } from './extractor.ts';
export { ExtractorRegistry, extractMetadata } from './run.ts';
export { blobSource, bufferSource } from './source.ts';

/** Every built-in format. Order does not matter: claims decide. */
export function defaultExtractors(): ExtractorRegistry {
  return new ExtractorRegistry()
    .register(debExtractor)
    .register(rpmExtractor)
    .register(wheelExtractor)
    .register(jarExtractor)
    .register(zipExtractor)
    .register(apkExtractor)
    .register(npmExtractor)
    .register(helmExtractor)
    .register(tarballExtractor);
}
