// Importing this module registers every built-in format. Each package type is
// one folder beside `generic/` that calls `registerFormat` when imported.
import './alpine/index.ts';
import './deb/index.ts';
import './docker/index.ts';
import './generic/index.ts';
import './helm/index.ts';
import './npm/index.ts';
import './pypi/index.ts';
import './rpm/index.ts';

export type * from './format.ts';
export { findFormat, getFormat, listFormats, registerFormat } from './registry.ts';
export { encodeSegment, joinUrl } from './url.ts';
