// Text models, the way sklearn-onnx exports a TfidfVectorizer + classifier pipeline:
// Reshape → StringNormalizer → Tokenizer (com.microsoft) → Flatten → TfIdfVectorizer → Mul (idf)
// → Normalizer (L2) → LinearClassifier with string labels. The front (normalizer, tokenizer) runs
// outside the circuit (src/tokenize.ts) and must tokenize as onnxruntime-web does; the circuit
// takes the tokens' codes and proves the n-gram counts, the weighting and the classifier. Also
// TfIdfVectorizer on int64 token ids (skips, TF/IDF/TFIDF) against onnxruntime-web.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, prove, setup, verify } from '../src/api.js';
import { checkConstraints } from '../src/circom/r1cs.js';
import { ZkonnxError } from '../src/errors.js';
import { loadSample, type InputData } from '../src/inputs.js';
import { quantGraphFromJson } from '../src/ir/serialize.js';
import { readOnnx } from '../src/onnx/decode.js';
import { inferAndFold } from '../src/onnx/fold.js';
import { attr, buildModel, type ModelSpec, type NodeSpec } from '../src/onnx/write.js';
import { countNaiveBayes, textTerms, tfidfClassifier } from '../benchmarks/sklearn-models.js';
import { holdsWithAny, provenWitness } from './helpers/compiled.js';
import { BuildPaths } from '../src/paths.js';
import { dequantize, execQuant, quantizeInputs } from '../src/qexec/exec.js';
import { runReference } from '../src/quantize/reference.js';
import { releaseCurves } from '../src/snark.js';
import { marked, normalizeText, textMatchers, textSummary, tokenizeText, type TextSpec } from '../src/tokenize.js';

const work = mkdtempSync(join(tmpdir(), 'zkonnx-text-'));
afterAll(async () => { await releaseCurves(); });

const ML = 'ai.onnx.ml';
const MS = 'com.microsoft';

function write(name: string, spec: ModelSpec): string {
  const f = join(work, `${name}.onnx`);
  writeFileSync(f, buildModel(spec));
  return f;
}

// ------------------------------------------------------------------ the front against onnxruntime

type Tok = NonNullable<TextSpec['tokenize']>;
type Norm = NonNullable<TextSpec['normalize']>;

/** text [1] → StringNormalizer → Tokenizer: the tokens onnxruntime-web makes. */
async function ortTokens(norm: Norm | undefined, tok: Tok, texts: string[]): Promise<string[][]> {
  const nodes: NodeSpec[] = [];
  let v = 'text';
  if (norm) {
    nodes.push({ name: 'sn', op: 'StringNormalizer', inputs: [v], outputs: ['norm'], attrs: { case_change_action: norm.caseChange, is_case_sensitive: norm.caseSensitive ? 1 : 0, ...(norm.stopwords.length ? { stopwords: norm.stopwords } : {}) } });
    v = 'norm';
  }
  nodes.push({ name: 'tk', op: 'Tokenizer', domain: MS, inputs: [v], outputs: ['tokens'], attrs: { mark: tok.mark ? 1 : 0, mincharnum: tok.mincharnum, pad_value: tok.pad, ...(tok.separators ? { separators: tok.separators } : { tokenexp: tok.tokenexp! }) } });
  const f = write(`front-${Math.random().toString(36).slice(2)}`, {
    graphName: 'front', opsets: { [MS]: 1, '': 12 }, initializers: [],
    inputs: [{ name: 'text', shape: [1], type: 'string' }], outputs: [{ name: 'tokens', shape: [1, 'T'], type: 'string' }], nodes,
  });
  const s = await ort.InferenceSession.create(f);
  const out: string[][] = [];
  for (const t of texts) {
    const r = await s.run({ text: new ort.Tensor('string', [t], [1]) });
    out.push(Array.from(r.tokens!.data as string[])); // one text: no padding
  }
  return out;
}

const TEXTS = [
  'Hello World', 'FREE money!!! Click now: http://x.example/win?id=42', '', '   ', 'the', 'The', 'a.b,c;d:e?f!g',
  'École  straße ΑΒΓ — naïve café', 'snake_case and CamelCase2 and 3.14159', 'tabs\tand\nnewlines', 'x', 'ab12cd 34 ef5',
  "don't (stop) [me] @home \"quoted\" 'single'", '😀 emoji 😀x y😀', 'İSTANBUL', 'aaa--bbb---ccc',
];

describe('text front (StringNormalizer, Tokenizer) against onnxruntime-web', () => {
  const norm: Norm = { caseChange: 'LOWER', caseSensitive: false, stopwords: ['the', 'İstanbul'] };
  const cases: [string, Norm | undefined, Tok][] = [
    ['sklearn-onnx default tokenexp', norm, { mark: false, mincharnum: 1, pad: '#', tokenexp: '[a-zA-Z0-9_]+' }],
    ['sklearn token_pattern \\w\\w+ with marks', { ...norm, caseChange: 'UPPER', caseSensitive: true }, { mark: true, mincharnum: 1, pad: '#', tokenexp: '\\w\\w+' }],
    ['sklearn-onnx default separators', undefined, { mark: false, mincharnum: 1, pad: '#', separators: [' ', '[.]', '\\?', ',', ';', ':', '\\!'] }],
    ['separators with mincharnum 2', norm, { mark: true, mincharnum: 2, pad: '##', separators: [' ', '-', '\\t', '\\n', '\\(|\\)'] }],
    ['leftmost-longest alternation', undefined, { mark: false, mincharnum: 1, pad: '#', tokenexp: '[a-z]+|[a-z]+[0-9]+|[0-9]' }],
    ['character level', norm, { mark: false, mincharnum: 1, pad: '#', tokenexp: '.' }],
    ['words or punctuation, case-insensitive flag', undefined, { mark: false, mincharnum: 1, pad: '#', tokenexp: '(?i)[a-z]+|\\d+|[^\\w\\s]' }],
    ['separator alternation, mincharnum 3', undefined, { mark: true, mincharnum: 3, pad: '#', separators: ['\\s+|[,.]', '[!?]+'] }],
  ];
  // and 150 random strings over letters, digits, punctuation, spaces, accents and emoji
  const alphabet = [...'aAbBzZ09_ .,;:!?-\'"()[]@#\t\néÉßİı€😀'];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const fuzz = Array.from({ length: 150 }, () => Array.from({ length: Math.floor(rand() * 24) }, () => alphabet[Math.floor(rand() * alphabet.length)]!).join(''));
  for (const [what, n, t] of cases) {
    it(what, async () => {
      const texts = [...TEXTS, ...fuzz];
      const ref = await ortTokens(n, t, texts);
      const matchers = textMatchers(t, what);
      texts.forEach((s, i) => {
        const tokens = tokenizeText(t, n ? normalizeText(n, s) : s, matchers);
        const mine = marked(t, tokens, tokens.length > 0);
        expect(mine, JSON.stringify(s)).toEqual(ref[i]);
      });
    });
  }
});

// ------------------------------------------------------------------ a TfidfVectorizer pipeline (benchmarks/sklearn-models.ts)

const words = ['buy', 'cheap', 'click', 'free', 'hello', 'meeting', 'money', 'now', 'offer', 'project', 'report', 'team', 'today', 'tomorrow', 'win', 'you'];
const bigrams = [['click', 'now'], ['free', 'money'], ['see', 'you'], ['team', 'meeting']] as const;
const V = textTerms({ words, bigrams }).length;
const textArgs = {
  words, bigrams, idf: Array.from({ length: V }, (_, i) => 1 + ((i * 7) % 5) / 4),
  coefficients: Array.from({ length: 3 * V }, (_, i) => Math.round(100 * Math.sin(1.7 * i + 0.3)) / 40), intercepts: [0.2, -0.1, 0.05],
  classes: ['ham', 'spam', 'work'],
};
const pipeline = (pad?: string): ModelSpec => tfidfClassifier('tfidf', { ...textArgs, ...(pad ? { pad } : {}) });

const messages = [
  'Click now to WIN free money', 'Hello team, the report is ready for the meeting tomorrow', 'cheap offer: buy now, buy today!',
  'see you at the team meeting', 'the project report', 'Free, free, FREE money money money', 'nothing here matches', '',
  'hello you, click click now now', 'win win win a cheap offer today', 'meeting moved to today; see you there',
];
const sampleOf = (m: string): InputData => ({ input_data: [[m]] });

/** A build's executor and onnxruntime-web (fed the model file) on the same sample. */
function bothOn(model: string, build: string) {
  const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
  const ins = qg.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype, text: i.text }));
  const outs = qg.outputs.map((o) => ({ name: o.name, shape: o.shape, categories: o.categories }));
  return {
    qg,
    run: async (s: InputData) => {
      const raw = loadSample(s);
      return { ref: await runReference(model, ins, raw, outs), q: execQuant(qg, quantizeInputs(qg, raw)) };
    },
  };
}

/** The build's executor against onnxruntime-web fed each text: the label exactly, the probabilities within 0.01. */
async function agreesWithOrt(model: string, build: string, texts: readonly string[]): Promise<void> {
  const { qg, run } = bothOn(model, build);
  for (const m of texts) {
    const { q, ref } = await run(sampleOf(m));
    expect(Number(q.outputs[0]![0]), m).toBe(ref[0]![0]);
    q.outputs[1]!.forEach((v, j) => expect(Math.abs(dequantize(v, qg.outputs[1]!.scale) - ref[1]![j]!), m).toBeLessThan(0.01));
  }
}

describe('a TfidfVectorizer + LinearClassifier pipeline (sklearn-onnx form)', () => {
  const model = write('tfidf', pipeline());
  const build = join(work, 'build-tfidf');

  it('cuts the front: the input is 16 token codes, its table the pool\'s strings', () => {
    const g = inferAndFold(readOnnx(model, { maxTokens: 16 }));
    const inp = g.inputs[0]!;
    expect(inp.shape).toEqual([1, 16]);
    expect(inp.text).toMatchObject({ shape: [1, 1], tokens: 16, normalize: { caseChange: 'LOWER', stopwords: ['the'] }, tokenize: { tokenexp: '[a-zA-Z0-9_]+', pad: '#' } });
    expect(inp.categories).toEqual([...words, 'see']);
    expect(g.nodes.some((n) => n.op === 'Tokenizer' || n.op === 'StringNormalizer' || n.op === 'TfIdfVectorizer')).toBe(false);
  });

  it('compiles; the executor agrees with onnxruntime-web fed the texts (labels exactly)', async () => {
    const c = await compile({ model, outDir: build, calibration: messages.map(sampleOf), maxTokens: 16, checkCircom: true });
    // the L2 norm divides the three class scores, not the 20 features (divide-late.ts)
    const divided = c.settings.layers.filter((l) => l.op === 'div').map((l) => l.size);
    expect(divided).toEqual([3, 1]); // the scores by the norm, then softmax's 1/Σ (one row)
    expect(c.settings.circuit.checkCircom).toMatchObject({ same: true }); // circom builds the same system and witness
    expect(c.settings.model.maxTokens).toBe(16);
    expect(c.settings.inputs[0]!.text?.tokens).toBe(16);
    expect(c.settings.outputs[0]!.categories).toEqual(['ham', 'spam', 'work']);
    await agreesWithOrt(model, build, [...messages, 'TODAY: buy cheap, win money', 'report report project team', 'Offer? offer! OFFER.', 'you you you']);
  }, 120_000);

  it('proves and verifies a text; another token code or another count in the witness fails the constraints', async () => {
    await setup({ buildDir: build });
    const p = await prove({ buildDir: build, input: sampleOf('Click now to win free money') });
    expect(await verify({ buildDir: build })).toBe(true);
    expect(p.reference!.maxAbsError).toBeLessThanOrEqual(p.reference!.tolerance);
    const { qg, r1cs, sym, w } = await provenWitness(build);
    expect((await checkConstraints(r1cs, w)).ok).toBe(true);
    const k = qg.inputs[0]!.categories!.length;
    const codes = [2, 7, k, 14, 3, 6]; // click now to win free money ('to' is in no n-gram)
    const wireOf = (j: number) => sym.get(`main.in0[${j}]`) ?? sym.get(`main.v[${qg.inputs[0]!.offset + j}]`)!;
    codes.forEach((c, j) => expect(w[wireOf(j)!]).toBe(BigInt(c)));
    expect(w[wireOf(6)!]).toBe(BigInt(k)); // padding
    for (const [j, c] of [[0, 3n], [2, 0n], [6, 2n]] as const) expect(await holdsWithAny(r1cs, w, wireOf(j)!, [c])).toBe(false);
    // an equality of a token with a pool token (the counts are linear in them)
    const eq = qg.acts.find((a) => a.op.kind === 'equal' && a.nodes.some((n) => n.startsWith('ngrams')))!;
    expect(eq.size).toBe(16 * (words.length + 1));
    const wire = sym.get(`main.v[${eq.offset}]`)!; // position 0 = 'click' vs pool token 0 ('buy'): 0
    expect(w[wire]).toBe(0n);
    expect(await holdsWithAny(r1cs, w, wire, [1n])).toBe(false);
    // a bigram's product of two equalities: exact, so one constraint and no range check (plain);
    // element 0 is position 0's ('click', 'now'): 1
    const prods = qg.acts.find((a) => a.op.kind === 'mul' && a.nodes.some((n) => n.startsWith('ngrams')))!;
    expect(prods.plain).toBe(true);
    const pw = sym.get(`main.v[${prods.offset}]`)!;
    expect(w[pw]).toBe(1n);
    expect(await holdsWithAny(r1cs, w, pw, [0n, 2n])).toBe(false);
  }, 180_000);

  it('refuses a text longer than the circuit takes, naming the input, and a pool that lists the padding', () => {
    const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
    const long = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
    const err = (() => { try { quantizeInputs(qg, loadSample(sampleOf(long))); } catch (e) { return e as ZkonnxError; } throw new Error('accepted'); })();
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toMatch(/input 'text'\[0\] is 20 tokens long; the circuit takes at most 16/);
    expect(err.hint).toMatch(/--max-tokens 20/);
    // what prove prints of a text input
    expect(textSummary('text', qg.inputs[0]!.text!, qg.inputs[0]!.categories!, ['The FREE money, see you'])).toEqual([
      "input 'text'[0]: 5 token(s), 4 of them in the model's vocabulary (the circuit takes 16)", // 'the' is a stopword only alone, and no pool word
    ]);
    expect(() => quantizeInputs(qg, loadSample({ input_data: [['a', 'b']] }))).toThrow(/input 'text' of shape \[1,1\] needs 1 string\(s\) \(a text input\), got 2/);
    const padded = write('tfidf-pad', pipeline('now'));
    expect(() => inferAndFold(readOnnx(padded))).toThrow(/node ngrams \(TfIdfVectorizer\): its pool lists the Tokenizer's pad_value "now" of text input 'text'/);
  });
});

describe('TfidfVectorizer(binary=True), CountVectorizer + MultinomialNB, committed weights', () => {
  const texts = ['money money money free free', 'click click now now now', 'you you see you', 'team meeting team meeting', ''];
  it('binary: a term\'s presence, not its count (the Cast of a count to bool is x ≠ 0), as onnxruntime-web', async () => {
    const model = write('tfidf-binary', tfidfClassifier('tfidf_binary', { ...textArgs, binary: true }));
    const build = join(work, 'build-tfidf-binary');
    await compile({ model, outDir: build, calibration: [...messages, ...texts].map(sampleOf), maxTokens: 16 });
    await agreesWithOrt(model, build, texts);
  }, 60_000);

  it('CountVectorizer + MultinomialNB (sklearn-onnx form): the executor agrees with onnxruntime-web', async () => {
    // feature_log_prob_: each class's smoothed term distribution, in log
    const featureLogProb = [0, 1, 2].flatMap((c) => {
      const raw = Array.from({ length: V }, (_, i) => 1 + ((i * (c + 3) + 5 * c) % 7));
      const total = raw.reduce((a, b) => a + b, 0);
      return raw.map((x) => Math.log(x / total));
    });
    const model = write('count-nb', countNaiveBayes('count_nb', { words, bigrams, featureLogProb, classLogPrior: [0.5, 0.3, 0.2].map(Math.log), classes: ['ham', 'spam', 'work'] }));
    const build = join(work, 'build-count-nb');
    // Exp(jll − ReduceLogSumExp(jll)) is proven as Softmax(jll) (softmax-forms.ts)
    expect(inferAndFold(readOnnx(model, { maxTokens: 16 })).nodes.map((n) => n.op).filter((op) => /Softmax|LogSumExp|Exp/.test(op))).toEqual(['Softmax']);
    await compile({ model, outDir: build, calibration: [...messages, ...texts].map(sampleOf), maxTokens: 16 });
    await agreesWithOrt(model, build, [...texts, ...messages.slice(0, 6)]);
  }, 60_000);

  it('--weights hashed commits the classifier, not the pool or the columns', async () => {
    const model = write('tfidf-hashed', pipeline());
    const c = await compile({ model, outDir: join(work, 'build-tfidf-hashed'), calibration: messages.map(sampleOf), maxTokens: 16, visibility: { weights: 'hashed' } });
    const names = c.settings.weights!.tensors.map((t) => t.name);
    // the idf, an elementwise scaling, stays a constant of the circuit, as every such tensor of
    // fractions does (compile warns); the pool and the TF columns are the model's structure
    expect(names).toEqual(['clf:coefficients', 'clf:intercepts']);
    expect(c.settings.accuracy.maxAbsError).toBeLessThanOrEqual(c.settings.accuracy.tolerance);
  }, 60_000);
});

describe('softmax written out (softmax-forms.ts)', () => {
  it('Exp(x − ReduceLogSumExp(x)) and x − ReduceLogSumExp(x) over logits of ±300 compile as Softmax/LogSoftmax and match onnxruntime-web', async () => {
    const m = write('lse', {
      graphName: 'lse', opsets: { '': 13 }, initializers: [],
      inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'p', shape: [1, 4] }, { name: 'lp', shape: [1, 4] }],
      nodes: [
        { name: 'lse', op: 'ReduceLogSumExp', inputs: ['x'], outputs: ['r'], attrs: { axes: [1], keepdims: 1 } },
        { name: 'sub', op: 'Sub', inputs: ['x', 'r'], outputs: ['lp'] },
        { name: 'lse2', op: 'ReduceLogSumExp', inputs: ['x'], outputs: ['r2'], attrs: { axes: [-1], keepdims: 1 } },
        { name: 'sub2', op: 'Sub', inputs: ['x', 'r2'], outputs: ['lp2'] },
        { name: 'exp', op: 'Exp', inputs: ['lp2'], outputs: ['p'] },
      ],
    });
    expect(inferAndFold(readOnnx(m)).nodes.map((n) => n.op)).toEqual(['LogSoftmax', 'Softmax']);
    const cal = Array.from({ length: 8 }, (_, k) => ({ input_data: [[-300 + 37 * k, -5 * k, 12 - k, -150 + k * k]] }));
    const build = join(work, 'build-lse');
    await compile({ model: m, outDir: build, calibration: cal });
    const { qg, run } = bothOn(m, build);
    for (const c of cal) {
      const { q, ref } = await run(c);
      q.outputs[0]!.forEach((v, j) => expect(Math.abs(dequantize(v, qg.outputs[0]!.scale) - ref[0]![j]!)).toBeLessThan(0.01));
      // log-probabilities: within 1% of the largest |value| (the compile tolerance)
      const big = Math.max(...Array.from(ref[1]!, Math.abs));
      q.outputs[1]!.forEach((v, j) => expect(Math.abs(dequantize(v, qg.outputs[1]!.scale) - ref[1]![j]!)).toBeLessThanOrEqual(Math.max(0.01, 0.01 * big)));
    }
  }, 60_000);
});

// ------------------------------------------------------------------ TfIdfVectorizer on token ids

describe('TfIdfVectorizer on int64 token ids', () => {
  const ids = (k: number) => Array.from({ length: 10 }, (_, i) => [3, 5, 7, 5, 3, 3, 9, 5, 7, 2][(i * (k + 1) + k) % 10]!);
  for (const [mode, skip, lengths] of [['TF', 2, [1, 2]], ['IDF', 1, [1, 3]], ['TFIDF', 0, [2, 3]]] as const) {
    it(`mode ${mode}, max_skip_count ${skip}, n-grams of ${lengths[0]} to ${lengths[1]}`, async () => {
      // pool: unigrams 3 5 7 9, bigrams (3,5) (5,7) (3,3) (7,2), trigrams (3,5,7) (5,3,3)
      const pool = [3, 5, 7, 9, 3, 5, 5, 7, 3, 3, 7, 2, 3, 5, 7, 5, 3, 3];
      const indexes = [9, 0, 1, 2, 3, 4, 5, 6, 7, 8];
      const m = write(`ids-${mode}`, {
        graphName: 'ids', opsets: { '': 13 }, initializers: [],
        inputs: [{ name: 'x', shape: [1, 10], type: 'int64' }], outputs: [{ name: 'y', shape: [1, 11] }],
        nodes: [{
          name: 'tf', op: 'TfIdfVectorizer', inputs: ['x'], outputs: ['y'],
          attrs: { mode, min_gram_length: lengths[0], max_gram_length: lengths[1], max_skip_count: skip, pool_int64s: pool, ngram_counts: [0, 4, 12], ngram_indexes: [...indexes.slice(0, 9), 10], weights: attr.floats(indexes.map((i) => 0.5 + i / 4)) },
        }],
      });
      const samples = Array.from({ length: 6 }, (_, k) => ({ input_data: [ids(k)] }));
      const build = join(work, `build-ids-${mode}`);
      await compile({ model: m, outDir: build, calibration: samples });
      const { qg, run } = bothOn(m, build);
      for (const s of samples) {
        const { q, ref } = await run(s);
        q.outputs[0]!.forEach((v, j) => expect(dequantize(v, qg.outputs[0]!.scale), `${s.input_data[0]} column ${j}`).toBeCloseTo(ref[0]![j]!, 2));
      }
    }, 60_000);
  }
});

// ------------------------------------------------------------------ exact products (QAct.plain)

describe('products at scale 0', () => {
  /**
   * y = (Σ [a = 3])·(Σ [b = 5]) over 4 int64s each: a product of two counts in [0, 4], exact (scale
   * 0, shift 0); plain unless the headroom cap narrows its interval below [0, 16] (64: no cap).
   */
  const eqCount = (v: string): NodeSpec[] => [
    { name: `eq_${v}`, op: 'Equal', inputs: [v, `k_${v}`], outputs: [`e_${v}`] },
    { name: `cast_${v}`, op: 'Cast', inputs: [`e_${v}`], outputs: [`f_${v}`], attrs: { to: 1 } },
    { name: `sum_${v}`, op: 'ReduceSum', inputs: [`f_${v}`, 'axis'], outputs: [`c_${v}`], attrs: { keepdims: 1 } },
  ];
  const m = write('product', {
    graphName: 'product', opsets: { '': 13 },
    initializers: [{ name: 'k_a', dims: [], data: BigInt64Array.from([3n]) }, { name: 'k_b', dims: [], data: BigInt64Array.from([5n]) }, { name: 'axis', dims: [1], data: BigInt64Array.from([1n]) }],
    inputs: [{ name: 'a', shape: [1, 4], type: 'int64' }, { name: 'b', shape: [1, 4], type: 'int64' }],
    outputs: [{ name: 'y', shape: [1, 1] }],
    nodes: [...eqCount('a'), ...eqCount('b'), { name: 'mul', op: 'Mul', inputs: ['c_a', 'c_b'], outputs: ['y'] }],
  });
  const cal = [{ input_data: [[3, 0, 1, 2], [5, 0, 0, 4]] }, { input_data: [[0, 1, 2, 4], [5, 5, 1, 0]] }];
  for (const headroom of [64, 1]) {
    it(`headroom ${headroom}: ${headroom === 64 ? 'the operands imply the interval: one constraint' : 'the cap narrows it: range-checked'}, and a wrong product fails`, async () => {
      const build = join(work, `build-product-${headroom}`);
      await compile({ model: m, outDir: build, calibration: cal, params: { headroomBits: headroom }, checkCircom: true });
      const qg = quantGraphFromJson(readFileSync(new BuildPaths(build).file('qgraph'), 'utf8'));
      const a = qg.acts.find((x) => x.op.kind === 'mul')!;
      expect(a.shift).toBe(0);
      expect(a.plain === true).toBe(headroom === 64);
      if (headroom === 1) expect(a.bits[0]).toBeLessThan(5); // [−2^b, 2^b) is narrower than [0, 16]
      await setup({ buildDir: build });
      await prove({ buildDir: build, input: { input_data: [[3, 3, 0, 1], [5, 0, 0, 0]] } });
      const { r1cs, sym, w } = await provenWitness(build);
      const wire = sym.get('main.out0[0]')!; // y, the output
      expect(w[wire]).toBe(2n);
      expect(await holdsWithAny(r1cs, w, wire, [1n, 3n])).toBe(false);
    }, 120_000);
  }
});
