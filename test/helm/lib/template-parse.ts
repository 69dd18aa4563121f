/**
 * Parser for the subset of Go text/template that the Orchard chart uses
 * (https://pkg.go.dev/text/template). No helm binary exists where the tests
 * run, so test/helm renders the chart with this parser and template-eval.ts.
 *
 * Supported: text, `{{- -}}` trimming, comments, pipelines with `|` and
 * parentheses, fields (`.a.b`, `$.a`, `$v.a`), variables (`:=`, `=`),
 * string/raw/number/bool/nil literals, if / else if / else, range (with
 * `$i, $v :=`) / else, with / else, define. Anything else throws, so a
 * template that strays outside the subset fails the tests instead of being
 * rendered wrongly.
 */

export type Arg =
  | { t: 'field'; base: 'dot' | string; path: string[] } // base: 'dot' or a variable name ('$' is the root)
  | { t: 'ident'; name: string }
  | { t: 'string'; value: string }
  | { t: 'int'; value: bigint }
  | { t: 'float'; value: number }
  | { t: 'bool'; value: boolean }
  | { t: 'nil' }
  | { t: 'pipe'; pipe: Pipeline };

export interface Pipeline {
  decl: string[];
  assign: boolean; // `=` instead of `:=`
  commands: Arg[][];
}

export type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipeline; line: number }
  | { t: 'if' | 'with'; branches: { pipe: Pipeline; body: Node[] }[]; otherwise?: Node[]; line: number }
  | { t: 'range'; pipe: Pipeline; body: Node[]; otherwise?: Node[]; line: number };

export interface ParsedTemplate {
  body: Node[];
  defines: Map<string, Node[]>;
}

interface Raw {
  kind: 'text' | 'action';
  text: string;
  line: number;
}

const SPACE = /[ \t\r\n]/;

/** Split a template into text and action pieces, applying the trim markers. */
function scan(src: string, name: string): Raw[] {
  const out: Raw[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open < 0) {
      out.push({ kind: 'text', text, line: 0 });
      break;
    }
    const line = src.slice(0, open).split('\n').length;
    let start = open + 2;
    if (src[start] === '-' && SPACE.test(src[start + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    out.push({ kind: 'text', text, line });
    let end: number;
    const body = src.slice(start).trimStart();
    if (body.startsWith('/*')) {
      const close = src.indexOf('*/', start);
      if (close < 0) throw new Error(`${name}:${line}: unclosed comment`);
      end = src.indexOf('}}', close);
      if (!/^[ \t\r\n]*-?[ \t\r\n]*$/.test(src.slice(close + 2, end))) {
        throw new Error(`${name}:${line}: comment must end the action`);
      }
    } else {
      end = findClose(src, start, name, line);
    }
    let inner = src.slice(start, end);
    trimNext = false;
    if (/[ \t\r\n]-$/.test(inner)) {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    if (!inner.trim().startsWith('/*')) out.push({ kind: 'action', text: inner.trim(), line });
    i = end + 2;
  }
  return out;
}

/** Index of the `}}` closing an action, skipping quoted strings. */
function findClose(src: string, from: number, name: string, line: number): number {
  let quote: string | undefined;
  for (let j = from; j < src.length; j++) {
    const c = src[j];
    if (quote) {
      if (c === '\\' && quote === '"') j++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}' && src[j + 1] === '}') return j;
  }
  throw new Error(`${name}:${line}: unclosed action`);
}

type Tok = { k: 'punct' | 'ident' | 'field' | 'var' | 'string' | 'number'; v: string };

function tokenize(s: string, where: string): Tok[] {
  const toks: Tok[] = [];
  const re =
    /\s*(?:(:=|=|\||\(|\)|,)|("(?:[^"\\]|\\.)*"|`[^`]*`)|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|((?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)|(\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|([A-Za-z_][A-Za-z0-9_]*))/y;
  let pos = 0;
  while (pos < s.length) {
    if (/^\s*$/.test(s.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`${where}: cannot parse ${JSON.stringify(s.slice(pos))}`);
    pos = re.lastIndex;
    if (m[1]) toks.push({ k: 'punct', v: m[1] });
    else if (m[2]) toks.push({ k: 'string', v: m[2] });
    else if (m[3]) toks.push({ k: 'number', v: m[3] });
    else if (m[4]) toks.push({ k: 'field', v: m[4] });
    else if (m[5]) toks.push({ k: 'var', v: m[5] });
    else toks.push({ k: 'ident', v: m[6] });
  }
  return toks;
}

function unquote(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  return JSON.parse(s) as string;
}

/** Parse the text of one action (without keyword) into a pipeline. */
export function parsePipeline(src: string, where: string): Pipeline {
  const toks = tokenize(src, where);
  let i = 0;
  const decl: string[] = [];
  let assign = false;
  const declEnd = toks.findIndex((t) => t.k === 'punct' && (t.v === ':=' || t.v === '='));
  if (declEnd > 0 && toks.slice(0, declEnd).every((t) => t.k === 'var' || t.v === ',')) {
    for (const t of toks.slice(0, declEnd)) if (t.k === 'var') decl.push(t.v);
    assign = toks[declEnd].v === '=';
    i = declEnd + 1;
  }
  const parseCommands = (closeParen: boolean): Arg[][] => {
    const commands: Arg[][] = [[]];
    while (i < toks.length) {
      const t = toks[i++];
      const cmd = commands[commands.length - 1];
      if (t.k === 'punct' && t.v === ')') {
        if (!closeParen) throw new Error(`${where}: unexpected )`);
        return commands;
      }
      if (t.k === 'punct' && t.v === '|') {
        if (cmd.length === 0) throw new Error(`${where}: empty command before |`);
        commands.push([]);
      } else if (t.k === 'punct' && t.v === '(') {
        cmd.push({ t: 'pipe', pipe: { decl: [], assign: false, commands: parseCommands(true) } });
      } else if (t.k === 'punct') {
        throw new Error(`${where}: unexpected ${t.v}`);
      } else cmd.push(toArg(t, where));
    }
    if (closeParen) throw new Error(`${where}: missing )`);
    return commands;
  };
  const commands = parseCommands(false);
  if (commands.some((c) => c.length === 0)) throw new Error(`${where}: empty command`);
  return { decl, assign, commands };
}

function toArg(t: Tok, where: string): Arg {
  switch (t.k) {
    case 'string':
      return { t: 'string', value: unquote(t.v) };
    case 'number':
      return /^-?\d+$/.test(t.v) ? { t: 'int', value: BigInt(t.v) } : { t: 'float', value: Number(t.v) };
    case 'field':
      return { t: 'field', base: 'dot', path: t.v === '.' ? [] : t.v.slice(1).split('.') };
    case 'var': {
      const [name, ...path] = t.v.split('.');
      return { t: 'field', base: name, path };
    }
    case 'ident':
      if (t.v === 'true' || t.v === 'false') return { t: 'bool', value: t.v === 'true' };
      if (t.v === 'nil') return { t: 'nil' };
      if (KEYWORDS.has(t.v)) throw new Error(`${where}: keyword ${t.v} not supported here`);
      return { t: 'ident', name: t.v };
    default:
      throw new Error(`${where}: unexpected ${t.v}`);
  }
}

const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);

/** Parse a whole template file; `define` blocks are collected apart from the body. */
export function parseTemplate(src: string, name: string): ParsedTemplate {
  const raws = scan(src, name);
  const defines = new Map<string, Node[]>();
  let pos = 0;
  // Parse nodes until one of `stops` (an `end` or `else…` action), which is returned.
  const parseList = (stops: boolean): { nodes: Node[]; stop?: Raw } => {
    const nodes: Node[] = [];
    while (pos < raws.length) {
      const r = raws[pos++];
      const where = `${name}:${r.line}`;
      if (r.kind === 'text') {
        if (r.text) nodes.push({ t: 'text', text: r.text });
        continue;
      }
      const [kw, rest] = splitKeyword(r.text);
      if (kw === 'end' || kw === 'else') {
        if (!stops) throw new Error(`${where}: unexpected {{${r.text}}}`);
        return { nodes, stop: r };
      }
      if (kw === 'if' || kw === 'with') nodes.push(parseBranches(kw, rest, r.line, where));
      else if (kw === 'range') nodes.push(parseRange(rest, r.line, where));
      else if (kw === 'define') {
        const body = parseList(true);
        if (!body.stop || splitKeyword(body.stop.text)[0] !== 'end')
          throw new Error(`${where}: define needs end`);
        defines.set(unquote(rest.trim()), body.nodes);
      } else if (KEYWORDS.has(kw)) throw new Error(`${where}: {{${kw}}} is not supported`);
      else nodes.push({ t: 'action', pipe: parsePipeline(r.text, where), line: r.line });
    }
    if (stops) throw new Error(`${name}: missing {{end}}`);
    return { nodes };
  };
  const parseBranches = (kw: 'if' | 'with', cond: string, line: number, where: string): Node => {
    const branches = [{ pipe: parsePipeline(cond, where), body: [] as Node[] }];
    for (;;) {
      const { nodes, stop } = parseList(true);
      branches[branches.length - 1].body = nodes;
      const [skw, srest] = splitKeyword(stop!.text);
      if (skw === 'end') return { t: kw, branches, line };
      const [ekw, erest] = splitKeyword(srest);
      if (ekw === kw && kw === 'if') {
        branches.push({ pipe: parsePipeline(erest, where), body: [] });
        continue;
      }
      if (srest.trim()) throw new Error(`${where}: else ${srest} not supported`);
      const tail = parseList(true);
      if (splitKeyword(tail.stop!.text)[0] !== 'end') throw new Error(`${where}: expected end after else`);
      return { t: kw, branches, otherwise: tail.nodes, line };
    }
  };
  const parseRange = (rest: string, line: number, where: string): Node => {
    const pipe = parsePipeline(rest, where);
    const { nodes, stop } = parseList(true);
    if (splitKeyword(stop!.text)[0] === 'end') return { t: 'range', pipe, body: nodes, line };
    const tail = parseList(true);
    return { t: 'range', pipe, body: nodes, otherwise: tail.nodes, line };
  };
  const { nodes } = parseList(false);
  return { body: nodes, defines };
}

function splitKeyword(text: string): [string, string] {
  const m = /^([A-Za-z_]+)\b\s*([\s\S]*)$/.exec(text);
  if (!m || !KEYWORDS.has(m[1])) return ['', text];
  return [m[1], m[2]];
}
