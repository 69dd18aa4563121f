/** `{...defaults, ...opts}` where an `undefined` in opts keeps the default (plain spread would overwrite it). */
export function withDefaults<D extends object, O extends object>(defaults: D, opts: O): D & O {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) out[k] = v;
  return out as D & O;
}
