// The text front of a text model (src/onnx/text.ts): what the model's StringNormalizer and
// com.microsoft Tokenizer do to a text, done here, outside the circuit, as onnxruntime does it.
// The circuit takes the tokens as codes (their index in the table of the strings the model
// compares them with, the table's length for any other token), a fixed number per text.
//
// onnxruntime's Tokenizer matches with RE2 in leftmost-longest mode; JavaScript's regular
// expressions are leftmost-first. Both find the same leftmost start; for the end, a pattern of
// single-character atoms with greedy quantifiers ([a-zA-Z0-9_]+, \w\w+, sklearn-onnx's separators)
// gives the longest match as it is, and any other pattern is searched for its longest match.
import { ZkonnxError } from './errors.js';
import type { TextSpec } from './ir/graph.js';

export type { TextSpec };

type Tokenize = NonNullable<TextSpec['tokenize']>;

const chars = (s: string): number => { let n = 0; for (const _ of s) n++; return n; };

/** Case change one code point at a time, as the C library's towlower/towupper (İ → i, ß stays). */
function changeCase(s: string, how: 'LOWER' | 'UPPER' | 'NONE'): string {
  if (how === 'NONE') return s;
  let out = '';
  for (const c of s) {
    const m = how === 'LOWER' ? c.toLowerCase() : c.toUpperCase();
    const cps = [...m];
    out += cps.length === 1 ? m : how === 'LOWER' ? cps[0]! : c;
  }
  return out;
}

/** StringNormalizer on one string: '' where it is a stopword (onnxruntime drops it; alone, '' is left). */
export function normalizeText(n: NonNullable<TextSpec['normalize']>, s: string): string {
  const key = n.caseSensitive ? s : changeCase(s, 'LOWER');
  const stop = n.caseSensitive ? n.stopwords : n.stopwords.map((w) => changeCase(w, 'LOWER'));
  return stop.includes(key) ? '' : changeCase(s, n.caseChange);
}

// JavaScript's unicode mode refuses escapes of characters that need none (RE2 takes \! or \");
// those become \xHH. RE2's (?u) flag (UTF-8, its default) is dropped, (?i) becomes the i flag,
// \pL becomes \p{L}.
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/-'.split(''));
const CLASS_ESCAPES = new Set('dDwWsSbBtnrfv0123456789xucpPk'.split(''));

function translate(pattern: string, where: string): { source: string; flags: string } {
  let src = pattern;
  let flags = 'u';
  for (;;) {
    const m = /^\(\?([a-zA-Z]+)\)/.exec(src);
    if (!m) break;
    for (const f of m[1]!) {
      if (f === 'i') flags += 'i';
      else if (f === 's') flags += 's';
      else if (f !== 'u') throw new ZkonnxError('ONNX_UNSUPPORTED_ATTR', `${where}: the regular expression ${JSON.stringify(pattern)} sets flag (?${f}), which zkonnx's tokenizer does not translate`, { hint: 'flags i, s and u are translated' });
    }
    src = src.slice(m[0].length);
  }
  if (/\[\[:[a-z]+:\]\]/.test(src)) throw new ZkonnxError('ONNX_UNSUPPORTED_ATTR', `${where}: the regular expression ${JSON.stringify(pattern)} uses a POSIX class ([[:alpha:]]), which zkonnx's tokenizer does not translate`, { hint: 'write the class out, e.g. [a-zA-Z]' });
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c !== '\\' || i + 1 >= src.length) { out += c; continue; }
    const d = src[++i]!;
    if (d === 'p' || d === 'P') {
      if (src[i + 1] === '{') { out += `\\${d}`; continue; }
      out += `\\${d}{${src[++i]}}`;
    } else if (JS_SYNTAX.has(d) || CLASS_ESCAPES.has(d) || /[a-zA-Z0-9]/.test(d)) {
      out += `\\${d}`;
    } else {
      out += `\\x${d.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  }
  return { source: out, flags };
}

/** A pattern whose greedy match is its longest: single-character atoms, each with at most a greedy quantifier. */
function greedyIsLongest(source: string): boolean {
  const atom = String.raw`(?:\[(?:\\.|[^\]\\])*\]|\\p\{[^}]*\}|\\x[0-9a-fA-F]{2}|\\.|[^\\()|?*+{}\[\]^$])`;
  return new RegExp(`^(?:${atom}(?:[*+]|\\{\\d+(?:,\\d*)?\\})?(?![?*+{]))+$`, 'u').test(source);
}

/** Leftmost-longest matching, as RE2 with longest_match, over JavaScript's RegExp. */
export class LongestMatcher {
  private readonly re: RegExp;
  private readonly flags: string;
  private readonly source: string;
  private readonly greedy: boolean;

  constructor(pattern: string, where: string) {
    const { source, flags } = translate(pattern, where);
    try {
      this.re = new RegExp(source, `${flags}g`);
    } catch (e) {
      throw new ZkonnxError('ONNX_UNSUPPORTED_ATTR', `${where}: the regular expression ${JSON.stringify(pattern)} is not one zkonnx's tokenizer can read: ${(e as Error).message}`, { hint: 'RE2 syntax shared with JavaScript: character classes, \\w \\d \\s \\b, quantifiers, groups and alternation' });
    }
    this.source = source;
    this.flags = flags;
    this.greedy = greedyIsLongest(source);
  }

  /** The leftmost-longest match in s at or after `from` (UTF-16 offsets), or undefined. */
  match(s: string, from: number): { at: number; end: number } | undefined {
    this.re.lastIndex = from;
    const m = this.re.exec(s);
    if (!m) return undefined;
    const at = m.index;
    let end = at + m[0].length;
    if (!this.greedy) {
      // the longest end e at which the pattern matches s[at, e) in its context: try each longer end
      for (let e = s.length; e > end; e--) {
        const rest = chars(s.slice(e));
        const exact = new RegExp(`(?:${this.source})(?=[\\s\\S]{${rest}}$)`, `${this.flags}y`);
        exact.lastIndex = at;
        const x = exact.exec(s);
        if (x && at + x[0].length === e) { end = e; break; }
      }
    }
    return { at, end };
  }
}

/** Code point length at UTF-16 offset i (a surrogate pair is one character). */
const step = (s: string, i: number): number => (s.codePointAt(i)! > 0xffff ? 2 : 1);

/** The tokens onnxruntime's Tokenizer makes of one string, without markers and padding. */
export function tokenizeText(t: Tokenize, s: string, matchers: LongestMatcher[]): string[] {
  const out: string[] = [];
  const charLevel = t.tokenexp === '.' || (t.separators?.length === 1 && t.separators[0] === '');
  if (charLevel) out.push(...s);
  else if (t.tokenexp !== undefined) {
    const re = matchers[0]!;
    let pos = 0;
    for (;;) {
      const m = re.match(s, pos);
      if (!m) break;
      const token = s.slice(m.at, m.end);
      if (token.length > 0 && chars(token) >= t.mincharnum) { out.push(token); pos = m.end; }
      else if (m.at >= s.length) break;
      else pos = m.at + step(s, m.at);
    }
  } else {
    let row = [s];
    for (const re of matchers) {
      const next: string[] = [];
      for (const text of row) {
        let pos = 0;
        for (;;) {
          const m = pos <= text.length ? re.match(text, pos) : undefined;
          if (!m) {
            const tail = text.slice(pos);
            if (chars(tail) >= t.mincharnum) next.push(tail);
            break;
          }
          const token = text.slice(pos, m.at);
          if (chars(token) >= t.mincharnum) next.push(token);
          pos = m.end > m.at ? m.end : m.at + (m.at < text.length ? step(text, m.at) : 1);
        }
      }
      row = next;
    }
    out.push(...row);
  }
  return out;
}

/** A string's tokens with the Tokenizer's start and end markers, where it sets mark and the batch has a token at all (onnxruntime's rule). */
export const marked = (t: Tokenize, tokens: string[], any: boolean): string[] => (t.mark && any ? ['\u0002', ...tokens, '\u0003'] : tokens);

/** The matchers of a spec's Tokenizer (its tokenexp, or its separators in order). */
export function textMatchers(t: Tokenize | undefined, where: string): LongestMatcher[] {
  if (!t || t.tokenexp === '.' || (t.separators?.length === 1 && t.separators[0] === '')) return [];
  if (t.tokenexp !== undefined) return [new LongestMatcher(t.tokenexp, where)];
  return (t.separators ?? []).map((p) => new LongestMatcher(p, where));
}

/**
 * The circuit's codes of a text input's strings: each string normalized and tokenized, each token
 * its index in `table` (table.length for any other), then that code up to spec.tokens; without a
 * Tokenizer, each normalized string's code. A string of more tokens than the circuit takes is
 * refused, naming the input and the count.
 */
export function textCodes(name: string, spec: TextSpec, table: readonly string[], strings: readonly string[], matchers = textMatchers(spec.tokenize, `input '${name}'`)): number[] {
  const codes: number[] = [];
  const index = new Map(table.map((s, i) => [s, i]));
  const code = (s: string) => index.get(s) ?? table.length;
  if (!spec.tokenize) {
    for (const raw of strings) codes.push(code(spec.normalize ? normalizeText(spec.normalize, raw) : raw));
    return codes;
  }
  const t = spec.tokenize;
  const rows = strings.map((raw) => tokenizeText(t, spec.normalize ? normalizeText(spec.normalize, raw) : raw, matchers));
  const any = rows.some((r) => r.length > 0);
  const max = spec.tokens!;
  rows.forEach((row, j) => {
    const tokens = marked(t, row, any);
    if (tokens.length > max) {
      const raw = strings[j]!;
      throw new ZkonnxError('INPUT_INVALID', `input '${name}'[${j}] is ${tokens.length} tokens long; the circuit takes at most ${max} (${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw)})`, {
        signal: name, hint: `compile with --max-tokens ${tokens.length} or more, or shorten the text`,
      });
    }
    for (const tok of tokens) codes.push(code(tok));
    for (let k = tokens.length; k < max; k++) codes.push(table.length);
  });
  return codes;
}

/** One line per string of a text input: its token count, how many are pool strings, and what the circuit takes (prove's summary). */
export function textSummary(name: string, spec: TextSpec, table: readonly string[], strings: readonly string[]): string[] {
  if (!spec.tokenize) return [];
  const matchers = textMatchers(spec.tokenize, `input '${name}'`);
  const known = new Set(table);
  return strings.map((raw, j) => {
    const tokens = tokenizeText(spec.tokenize!, spec.normalize ? normalizeText(spec.normalize, raw) : raw, matchers);
    const inPool = tokens.filter((t) => known.has(t)).length;
    return `input '${name}'[${j}]: ${tokens.length} token(s), ${inPool} of them in the model's vocabulary (the circuit takes ${spec.tokens})`;
  });
}
