/**
 * circomkit-style circuit tester: compile a main component against real circom, compute real
 * witnesses, and check real R1CS constraints, including on witnesses a cheating prover edits.
 *
 *   const t = await CircuitTester.fromSource('rescale', 'component main = Rescale(3, 4, 1);',
 *                                            { include: 'circuits/zkonnx.circom' });
 *   await t.expectPass({ in: 13 }, { out: 2 });
 *   await t.expectConstraintFailure({ in: 13 }, { 'main.out': 3n });
 */
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { circomCliPath, compileCircom, type CompiledCircuit } from '../../src/circom/compile.js';
import { BN254_R, checkConstraints, failingConstraints, fieldToSigned, readR1cs, type R1cs } from '../../src/circom/r1cs.js';
import { calculateWitness, readSymbols, toField } from '../../src/circom/witness.js';
import { compareSystems } from '../../src/compiler/check-circom.js';
import { buildTwin, type Twin } from './twin.js';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type Signed = number | bigint;
/** A value for a signal or a (nested) array of them. */
export type SignalValue = Signed | string | SignalValue[];

export interface TesterOptions {
  /** circom file(s) to include, relative to the project root or absolute. */
  include?: string | string[];
  /**
   * circom optimisation. Default 1: every signal keeps its wire, so any of them can be edited.
   * At 2 circom substitutes linear constraints away and removes signals (witness index -1).
   */
  optimize?: 0 | 1 | 2;
  /** Where compiled circuits are cached by content hash. Default <tmpdir>/zkonnx-circuit-tester. */
  cacheDir?: string;
  pragma?: string;
}

export class TesterAssertionError extends Error {
  override readonly name = 'TesterAssertionError';
}

async function circomVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(dirname(await circomCliPath()), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

// One compilation per content hash per process; the on-disk cache covers other processes.
const inFlight = new Map<string, Promise<CircuitTester>>();

export class CircuitTester {
  private constructor(
    readonly name: string,
    readonly compiled: CompiledCircuit,
    readonly r1cs: R1cs,
    /** Full signal name → witness index (−1: removed by the optimiser). */
    readonly symbols: Map<string, number>,
    readonly optimize: 0 | 1 | 2,
    /**
     * At --O1, for the templates zkonnx states itself: the constraint system zkonnx writes for the
     * same main (the same as circom's, checked when built). Every check runs against both.
     */
    readonly twin?: Twin,
  ) {}

  static async fromSource(name: string, mainSource: string, options: TesterOptions = {}): Promise<CircuitTester> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TesterAssertionError(`circuit name ${JSON.stringify(name)} must be letters, digits and _ (it names files)`);
    }
    const includes = [options.include ?? []].flat().map((p) => (isAbsolute(p) ? p : join(PROJECT_ROOT, p)));
    const optimize = options.optimize ?? 1;
    const source =
      `pragma circom ${options.pragma ?? '2.1.6'};\n` + includes.map((p) => `include "${basename(p)}";\n`).join('') + `${mainSource.trim()}\n`;
    // The key covers everything that changes the output: source, included files, flags, circom.
    const hash = createHash('sha256');
    hash.update(JSON.stringify({ name, source, optimize, circom: await circomVersion() }));
    for (const p of includes) hash.update(await readFile(p));
    const key = hash.digest('hex').slice(0, 20);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = CircuitTester.build(name, source, includes, optimize, key, options.cacheDir ?? join(tmpdir(), 'zkonnx-circuit-tester'));
      inFlight.set(key, pending);
      pending.catch(() => inFlight.delete(key));
    }
    return pending;
  }

  private static async build(name: string, source: string, includes: string[], optimize: 0 | 1 | 2, key: string, cacheDir: string): Promise<CircuitTester> {
    const dir = join(cacheDir, `${name}-O${optimize}-${key}`);
    const paths = {
      r1csPath: join(dir, `${name}.r1cs`),
      symPath: join(dir, `${name}.sym`),
      wasmPath: join(dir, `${name}_js`, `${name}.wasm`),
    };
    const manifest = join(dir, 'compiled.json');
    const cached = async (): Promise<CompiledCircuit | undefined> => {
      try {
        const c = JSON.parse(await readFile(manifest, 'utf8')) as CompiledCircuit;
        await Promise.all(Object.values(paths).map((p) => access(p))); // a tmp cleaner may have struck
        // The manifest's paths point into the folder it was compiled in; they now live in `dir`.
        return { ...c, ...paths };
      } catch {
        return undefined;
      }
    };
    let compiled = await cached();
    if (!compiled) {
      // Compile into a private folder, then rename: parallel test workers never see half a build.
      await rm(dir, { recursive: true, force: true });
      await mkdir(cacheDir, { recursive: true });
      const work = await mkdtemp(join(cacheDir, `.${name}-`));
      try {
        const circuitPath = join(work, `${name}.circom`);
        await writeFile(circuitPath, source);
        const c = await compileCircom({ circuitPath, outDir: work, includePaths: includes.map((p) => dirname(p)), optimize });
        await writeFile(join(work, 'compiled.json'), JSON.stringify(c));
        await rename(work, dir).catch(() => undefined); // another worker won the race: use theirs
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      compiled = await cached();
      if (!compiled) throw new TesterAssertionError(`${name}: compiled into ${dir}, but its files are missing`);
    }
    const [r1cs, symbols] = await Promise.all([readR1cs(compiled.r1csPath), readSymbols(compiled.symPath)]);
    const twin = optimize === 1 ? await buildTwin(source, join(dir, 'twin')) : undefined;
    if (twin) {
      const diff = compareSystems(twin.r1cs, r1cs, twin.symbols, symbols);
      if (diff.length) throw new TesterAssertionError(`${name}: the constraint system zkonnx writes differs from circom's: ${diff.join('; ')}`);
    }
    return new CircuitTester(name, compiled, r1cs, symbols, optimize, twin);
  }

  get constraints(): number {
    return this.r1cs.header.nConstraints;
  }

  /** The honest witness, as circom's witness calculator computes it (it also checks `===`). */
  witness(input: Record<string, SignalValue>): Promise<bigint[]> {
    return calculateWitness(this.compiled.wasmPath, input);
  }

  /** Full signal name for 'out', 'main.out', 'u[3]' or 'main.u[3]'. */
  resolveName(name: string): string {
    return name === 'main' || name.startsWith('main.') || name.startsWith('main[') ? name : `main.${name}`;
  }

  /** Witness index of a signal, with a clear error for unknown or optimised-away signals. */
  index(name: string): number {
    const full = this.resolveName(name);
    const idx = this.symbols.get(full);
    if (idx === undefined) {
      const stem = full.replace(/\[.*$/, '');
      const similar = [...this.symbols.keys()].filter((k) => k.startsWith(stem)).slice(0, 8);
      throw new TesterAssertionError(
        `${this.name}: no signal ${full}` + (similar.length ? `; similar: ${similar.join(', ')}` : `; signals: ${[...this.symbols.keys()].slice(0, 12).join(', ')}`),
      );
    }
    if (idx < 0) {
      throw new TesterAssertionError(`${this.name}: signal ${full} was removed by circom --O${this.optimize}; compile with optimize: 1 to edit or read it`);
    }
    return idx;
  }

  /** A signal's value in a witness, as a signed integer. */
  read(witness: readonly bigint[], name: string): bigint {
    return fieldToSigned(witness[this.index(name)]!, this.r1cs.header.prime);
  }

  /**
   * The witness is computed and satisfies every constraint; `expected` maps signal names (or
   * array names with (nested) array values) to signed values.
   */
  async expectPass(input: Record<string, SignalValue>, expected?: Record<string, SignalValue>): Promise<bigint[]> {
    const w = await this.witness(input);
    const res = await checkConstraints(this.r1cs, w, { symbols: this.symbols });
    if (!res.ok) throw new TesterAssertionError(`${this.name}: honest witness for ${show(input)} fails: ${res.message}`);
    this.twinWitness(input, w);
    for (const [name, value] of flatten(expected ?? {})) {
      const got = this.read(w, name);
      const want = fieldToSigned(toField(value, this.r1cs.header.prime, name), this.r1cs.header.prime);
      if (got !== want) throw new TesterAssertionError(`${this.name}: input ${show(input)}: ${this.resolveName(name)} expected ${want}, received ${got}`);
    }
    return w;
  }

  /**
   * No valid witness comes out: witness generation throws (circom checks `===` and asserts as
   * it computes), or the witness it gives fails a constraint. Returns the reason.
   */
  async expectFail(input: Record<string, SignalValue>): Promise<string> {
    if (this.twin) {
      // zkonnx's witness generator checks every constraint as it goes: it must refuse, or give a
      // witness that its own system refuses
      let tw: bigint[] | undefined;
      try { tw = this.twin.witness(input); } catch { tw = undefined; }
      if (tw && (await checkConstraints(this.twin.r1cs, tw, { symbols: this.twin.symbols })).ok) {
        throw new TesterAssertionError(`${this.name}: expected input ${show(input)} to fail, but zkonnx's witness satisfies every constraint of the system zkonnx writes`);
      }
    }
    let w: bigint[];
    try {
      w = await this.witness(input);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    const res = await checkConstraints(this.r1cs, w, { symbols: this.symbols });
    if (res.ok) {
      const outs = [...this.symbols.entries()]
        .filter(([, i]) => i >= 1 && i <= this.r1cs.header.nPubOut)
        .map(([n, i]) => `${n} = ${fieldToSigned(w[i]!, this.r1cs.header.prime)}`);
      throw new TesterAssertionError(`${this.name}: expected input ${show(input)} to fail, but its witness satisfies every constraint (${outs.join(', ') || 'no outputs'})`);
    }
    return res.message;
  }

  /**
   * A cheating prover's witness: take the honest witness for `input`, overwrite the named
   * signals with the given signed values, and require the constraints to reject it. Returns
   * the failing constraint, so tests can also say which constraint caught the edit.
   */
  async expectConstraintFailure(
    input: Record<string, SignalValue>,
    edits: Record<string, Signed>,
  ): Promise<{ constraint: number; message: string; failing: number[] }> {
    const honest = await this.witness(input);
    const res0 = await checkConstraints(this.r1cs, honest, { symbols: this.symbols });
    if (!res0.ok) throw new TesterAssertionError(`${this.name}: the honest witness for ${show(input)} already fails: ${res0.message}`);
    this.twinWitness(input, honest);
    const w = this.edit(honest, edits);
    const res = await checkConstraints(this.r1cs, w, { symbols: this.symbols });
    if (res.ok) {
      throw new TesterAssertionError(`${this.name}: SOUNDNESS: edits ${show(edits)} on input ${show(input)} still satisfy every constraint`);
    }
    if (this.twin && (await checkConstraints(this.twin.r1cs, w, { symbols: this.twin.symbols })).ok) {
      throw new TesterAssertionError(`${this.name}: SOUNDNESS: edits ${show(edits)} on input ${show(input)} satisfy every constraint of the system zkonnx writes`);
    }
    return { ...res, failing: failingConstraints(this.r1cs, w) };
  }

  /** The same edits, for tests that want the tampered witness itself. */
  edit(witness: readonly bigint[], edits: Record<string, Signed>): bigint[] {
    const w = [...witness];
    let changed = false;
    for (const [name, value] of Object.entries(edits)) {
      const i = this.index(name);
      const v = toField(value, this.r1cs.header.prime, name);
      if (w[i] !== v) changed = true;
      w[i] = v;
    }
    if (!changed) throw new TesterAssertionError(`${this.name}: edits ${show(edits)} leave the witness unchanged; the test would prove nothing`);
    return w;
  }

  expectConstraintCount(n: number): void {
    if (this.constraints !== n) {
      throw new TesterAssertionError(`${this.name} (--O${this.optimize}): expected ${n} constraints, received ${this.constraints}`);
    }
  }

  /**
   * Checks an arbitrary witness (for exhaustive searches over candidate witnesses) against
   * circom's system and, at --O1, against the one zkonnx writes: both must give the same verdict.
   */
  async check(witness: readonly bigint[]): ReturnType<typeof checkConstraints> {
    const res = await checkConstraints(this.r1cs, witness, { symbols: this.symbols });
    if (this.twin) {
      const ours = await checkConstraints(this.twin.r1cs, witness, { symbols: this.twin.symbols });
      if (ours.ok !== res.ok) throw new TesterAssertionError(`${this.name}: circom's system ${res.ok ? 'accepts' : 'refuses'} a witness that zkonnx's ${ours.ok ? 'accepts' : 'refuses'}`);
    }
    return res;
  }

  /** zkonnx's witness for an honest input is circom's, value for value. */
  private twinWitness(input: Record<string, SignalValue>, circom: readonly bigint[]): void {
    if (!this.twin) return;
    const ours = this.twin.witness(input);
    const bad = ours.findIndex((v, i) => v !== circom[i]);
    if (bad >= 0 || ours.length !== circom.length) {
      throw new TesterAssertionError(`${this.name}: input ${show(input)}: zkonnx's witness differs from circom's at wire ${bad} (${ours[bad]} vs ${circom[bad]})`);
    }
  }
}

/** { out: [1, [2, 3]] } → [['out[0]', 1], ['out[1][0]', 2], ['out[1][1]', 3]]. */
function flatten(values: Record<string, SignalValue>): Array<[string, Signed | string]> {
  const res: Array<[string, Signed | string]> = [];
  const walk = (name: string, v: SignalValue): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(`${name}[${i}]`, x));
    else res.push([name, v]);
  };
  for (const [k, v] of Object.entries(values)) walk(k, v);
  return res;
}

function show(x: unknown): string {
  return JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** BN254 scalar field order, re-exported for tests that build field elements by hand. */
export const P = BN254_R;
