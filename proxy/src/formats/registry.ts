import type { Format } from './format.ts';

const formats = new Map<string, Format>();

/**
 * Make `format` available under `format.name`. Each format folder registers
 * itself when imported (see `index.ts`). Registering a second format under the
 * same name is a programming error and throws.
 */
export function registerFormat(format: Format): void {
  if (formats.has(format.name))
    throw new Error(`format ${JSON.stringify(format.name)} is already registered`);
  formats.set(format.name, format);
}

/** The format registered as `name`, or `undefined`. */
export function findFormat(name: string): Format | undefined {
  return formats.get(name);
}

/**
 * The format registered as `name`. A remote whose package type has no format
 * yet is served generically (its own patterns, no built-ins), so a missing
 * name falls back to `generic` rather than failing requests.
 */
export function getFormat(name: string): Format {
  const found = formats.get(name) ?? formats.get('generic');
  if (!found) throw new Error('no formats registered: import proxy/src/formats/index.ts');
  return found;
}

export function listFormats(): string[] {
  return [...formats.keys()].sort();
}
