/**
 * The Go template subset that renders the chart in these tests behaves as Go
 * text/template + Sprig do. Expected outputs are Go's documented behaviour
 * (trim markers, truth, range order over maps, %v of float64, comparison
 * errors between int and float64, nindent).
 */
import { describe, expect, it } from 'vitest';
import { TemplateSet } from './lib/template-eval.ts';

function run(src: string, data: unknown = {}, defines = ''): string {
  const set = new TemplateSet();
  if (defines) set.add('_helpers.tpl', defines);
  set.add('t', src);
  return set.render('t', data);
}

describe('Go template subset', () => {
  it.each([
    ['trim markers eat whitespace and newlines on their side', 'a  \n {{- "b" -}} \n  c', 'abc'],
    ['no trim without markers', 'a {{ "b" }} c', 'a b c'],
    ['comments render nothing', 'a{{/* x }} y */}}b{{- /* z */ -}} c', 'abc'],
    ['if / else if / else', '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}', 'B'],
    [
      'with rebinds dot and has else',
      '{{ with .m }}{{ .k }}{{ end }}{{ with .e }}x{{ else }}none{{ end }}',
      'vnone',
    ],
    [
      'range over a list with index and element',
      '{{ range $i, $e := .l }}{{ $i }}={{ $e }};{{ end }}',
      '0=x;1=y;',
    ],
    ['range over a map in key order', '{{ range $k, $v := .m }}{{ $k }}:{{ $v }} {{ end }}', 'k:v '],
    ['range else on empty', '{{ range .e }}x{{ else }}empty{{ end }}', 'empty'],
    ['variables and $', '{{ $x := .a }}{{ with .m }}{{ $x }}{{ $.b }}{{ end }}', 'falsetrue'],
    ['pipelines pass the value last', '{{ "a b" | replace " " "-" | quote }}', '"a-b"'],
    ['parenthesized sub-pipelines', '{{ printf "%s-%d" (default "x" .nil) (int 3) }}', 'x-3'],
    ['and/or return an operand', '{{ and 1 "s" }} {{ or .a 0 "z" }}', 's z'],
    [
      'float64 values print as Go %v',
      '{{ .f1 }} {{ .f2 }} {{ .f3 }} {{ .f4 }}',
      '25000 1e+06 0.5 1.234567e+06',
    ],
    ['int keeps integers exact', '{{ int .f2 }}', '1000000'],
    [
      'default treats zero values as empty',
      '{{ default "d" "" }} {{ default "d" 0 }} {{ default "d" "v" }}',
      'd d v',
    ],
    ['nindent and indent', 'k:{{ "a\\nb" | nindent 2 }}|{{ "x\\ny" | indent 1 }}', 'k:\n  a\n  b| x\n y'],
    ['toYaml sorts keys and does not indent sequences', '{{ toYaml .y }}', 'a:\n- 1\n- 2\nb: c'],
    ['eq with several candidates', '{{ eq "b" "a" "b" }} {{ ne 1 2 }}', 'true true'],
    ['missing values print nothing after Helm post-processing', '{{ .nil }}', '<no value>'],
  ])('%s', (_name, src, want) => {
    const data = {
      a: false,
      b: true,
      m: { k: 'v' },
      e: [],
      l: ['x', 'y'],
      f1: 25000,
      f2: 1000000,
      f3: 0.5,
      f4: 1234567,
      y: { b: 'c', a: [1, 2] },
      nil: null,
    };
    expect(run(src, data)).toBe(want);
  });

  it('include renders a define with the given dot', () => {
    expect(
      run('x:{{ include "n" .m | nindent 2 }}', { m: { k: 'v' } }, '{{- define "n" -}}k: {{ .k }}{{- end }}'),
    ).toBe('x:\n  k: v');
  });

  it.each([
    ['comparing float64 with an int literal', '{{ gt .n 1 }}', /incompatible types for comparison/],
    ['a key missing from the values', '{{ .m.nope }}', /no key "nope"/],
    ['a field of nil', '{{ .nil.x }}', /nil pointer/],
    ['an unknown function', '{{ frobnicate 1 }}', /not defined/],
    ['an unsupported keyword', '{{ template "x" }}', /not supported/],
    ['nindent with a float64 width', '{{ "a" | nindent .n }}', /expected int/],
    ['required on an empty value', '{{ required "need x" .s }}', /need x/],
    ['fail', '{{ fail "boom" }}', /boom/],
    ['an unclosed if', '{{ if .b }}x', /missing \{\{end\}\}/],
  ])('throws on %s', (_name, src, err) => {
    expect(() => run(src, { n: 2, m: {}, nil: null, s: '', b: true })).toThrow(err);
  });
});
