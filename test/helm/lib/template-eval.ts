/**
 * Evaluator for the Go text/template subset of template-parse.ts, with the
 * Sprig/Helm functions of template-funcs.ts. Values follow Go's types where
 * it matters for a chart: numbers from values files are float64 (JS number),
 * integer literals and `int` results are int64 (JS bigint), and comparing the
 * two throws as Go's `eq`/`gt` do ("incompatible types for comparison").
 *
 * Strict: reading a key that a map lacks throws, so a template that refers to
 * a value missing from values.yaml fails instead of rendering empty.
 */

import { type Funcs, formatValue, isTruthy, makeFuncs } from './template-funcs.ts';
import { type Arg, type Node, type ParsedTemplate, type Pipeline, parseTemplate } from './template-parse.ts';

export type Value = unknown;

/** A method-like value (`.Files.Get`), callable from a template command. */
export type Method = (...args: Value[]) => Value;

interface Scope {
  vars: Map<string, Value>;
  parent?: Scope;
}

export class TemplateError extends Error {}

export class TemplateSet {
  private readonly defines = new Map<string, Node[]>();
  private readonly bodies = new Map<string, Node[]>();
  private readonly funcs: Funcs;

  constructor() {
    this.funcs = makeFuncs({ include: (name, data) => this.include(name, data) });
  }

  /** Parse a file; its `define`s become available to every file of the set. */
  add(name: string, src: string): void {
    const parsed: ParsedTemplate = parseTemplate(src, name);
    this.bodies.set(name, parsed.body);
    for (const [k, v] of parsed.defines) this.defines.set(k, v);
  }

  /** Render one added file with `data` as dot and `$`. */
  render(name: string, data: Value): string {
    const body = this.bodies.get(name);
    if (!body) throw new TemplateError(`no template ${name}`);
    return this.exec(body, data, { vars: new Map([['$', data]]) });
  }

  include(name: string, data: Value): string {
    const body = this.defines.get(name);
    if (!body) throw new TemplateError(`include: no template "${name}"`);
    return this.exec(body, data, { vars: new Map([['$', data]]) });
  }

  private exec(nodes: Node[], dot: Value, scope: Scope): string {
    let out = '';
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          out += n.text;
          break;
        case 'action': {
          const v = this.pipeline(n.pipe, dot, scope, n.line);
          if (n.pipe.decl.length === 0) out += formatValue(v);
          break;
        }
        case 'if':
        case 'with':
          out += this.branch(n, dot, scope);
          break;
        case 'range':
          out += this.range(n, dot, scope);
          break;
      }
    }
    return out;
  }

  private branch(n: Extract<Node, { t: 'if' | 'with' }>, dot: Value, scope: Scope): string {
    for (const b of n.branches) {
      const inner: Scope = { vars: new Map(), parent: scope };
      const v = this.pipeline(b.pipe, dot, inner, n.line);
      if (isTruthy(v)) return this.exec(b.body, n.t === 'with' ? v : dot, inner);
    }
    return n.otherwise ? this.exec(n.otherwise, dot, { vars: new Map(), parent: scope }) : '';
  }

  private range(n: Extract<Node, { t: 'range' }>, dot: Value, scope: Scope): string {
    const { decl } = n.pipe;
    const v = this.pipeline({ ...n.pipe, decl: [] }, dot, scope, n.line);
    let entries: [Value, Value][];
    if (v === null || v === undefined) entries = [];
    else if (Array.isArray(v)) entries = v.map((e, i) => [BigInt(i), e]);
    else if (typeof v === 'object')
      entries = Object.keys(v)
        .sort()
        .map((k) => [k, (v as Record<string, Value>)[k]]);
    else if (typeof v === 'bigint')
      entries = Array.from({ length: Number(v) }, (_, i) => [BigInt(i), BigInt(i)]);
    else throw new TemplateError(`line ${n.line}: range can't iterate over ${formatValue(v)}`);
    if (entries.length === 0) return n.otherwise ? this.exec(n.otherwise, dot, scope) : '';
    let out = '';
    for (const [k, e] of entries) {
      const inner: Scope = { vars: new Map(), parent: scope };
      if (decl.length === 1) inner.vars.set(decl[0], e);
      if (decl.length === 2) {
        inner.vars.set(decl[0], k);
        inner.vars.set(decl[1], e);
      }
      out += this.exec(n.body, e, inner);
    }
    return out;
  }

  private pipeline(p: Pipeline, dot: Value, scope: Scope, line: number): Value {
    let v: Value;
    let piped = false;
    for (const cmd of p.commands) {
      v = this.command(cmd, dot, scope, line, piped ? [v] : []);
      piped = true;
    }
    if (p.decl.length > 0) {
      if (p.decl.length !== 1) throw new TemplateError(`line ${line}: too many declarations`);
      if (p.assign) this.setVar(scope, p.decl[0], v, line);
      else scope.vars.set(p.decl[0], v);
    }
    return v;
  }

  private command(cmd: Arg[], dot: Value, scope: Scope, line: number, piped: Value[]): Value {
    const [head, ...rest] = cmd;
    if (head.t === 'ident') {
      const name = head.name;
      if (name === 'and' || name === 'or') return this.logical(name, rest, dot, scope, line, piped);
      const fn = this.funcs[name];
      if (!fn) throw new TemplateError(`line ${line}: function "${name}" not defined`);
      const args = [...rest.map((a) => this.arg(a, dot, scope, line)), ...piped];
      try {
        return fn(...args);
      } catch (err) {
        throw new TemplateError(`line ${line}: error calling ${name}: ${(err as Error).message}`);
      }
    }
    const v = this.arg(head, dot, scope, line);
    if (typeof v === 'function') {
      const args = [...rest.map((a) => this.arg(a, dot, scope, line)), ...piped];
      return (v as Method)(...args);
    }
    if (rest.length > 0 || piped.length > 0) {
      throw new TemplateError(`line ${line}: can't give argument to non-function`);
    }
    return v;
  }

  /** `and`/`or` evaluate their arguments lazily and return one of them, as Go 1.18+ does. */
  private logical(name: string, rest: Arg[], dot: Value, scope: Scope, line: number, piped: Value[]): Value {
    const thunks: (() => Value)[] = [
      ...rest.map((a) => () => this.arg(a, dot, scope, line)),
      ...piped.map((p) => () => p),
    ];
    if (thunks.length < 2) throw new TemplateError(`line ${line}: ${name} needs at least 2 arguments`);
    let v: Value;
    for (const t of thunks) {
      v = t();
      if (name === 'and' ? !isTruthy(v) : isTruthy(v)) return v;
    }
    return v;
  }

  private arg(a: Arg, dot: Value, scope: Scope, line: number): Value {
    switch (a.t) {
      case 'string':
      case 'int':
      case 'float':
      case 'bool':
        return a.value;
      case 'nil':
        return null;
      case 'ident':
        return this.command([a], dot, scope, line, []);
      case 'pipe':
        return this.pipeline(a.pipe, dot, { vars: new Map(), parent: scope }, line);
      case 'field': {
        let v = a.base === 'dot' ? dot : this.getVar(scope, a.base, line);
        for (const key of a.path) v = field(v, key, line);
        return v;
      }
    }
  }

  private getVar(scope: Scope | undefined, name: string, line: number): Value {
    for (let s = scope; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name);
    throw new TemplateError(`line ${line}: undefined variable ${name}`);
  }

  private setVar(scope: Scope | undefined, name: string, v: Value, line: number): void {
    for (let s = scope; s; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, v);
        return;
      }
    }
    throw new TemplateError(`line ${line}: undefined variable ${name}`);
  }
}

function field(v: Value, key: string, line: number): Value {
  if (v === null || v === undefined) {
    throw new TemplateError(`line ${line}: nil pointer evaluating interface {}.${key}`);
  }
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new TemplateError(`line ${line}: can't evaluate field ${key} in ${typeof v}`);
  }
  if (!Object.hasOwn(v, key)) throw new TemplateError(`line ${line}: map has no key "${key}" (strict mode)`);
  return (v as Record<string, Value>)[key];
}
