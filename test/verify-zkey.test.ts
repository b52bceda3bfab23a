// `setup verify` on our kernels (src/setup/verify-zkey.ts): it must accept the keys our setup,
// contributions and beacons write, and reject, naming the section or contribution, every way a
// key can be wrong, always agreeing with snarkjs's `zkey verify` on the same files.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChainR1cs } from '../benchmarks/chain-r1cs.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { fastGroth16Keys } from '../src/setup/fast-zkey.js';
import { contributePhase2 } from '../src/setup/phase2.js';
import { verifyZkey } from '../src/setup/verify-zkey.js';
import { releaseCurves, snarkjs } from '../src/snark.js';
import { mixedCircuitWithPtau } from './helpers/mixed-circuit.js';
import { twistPoint } from './helpers/twist-point.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const BEACON = '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

let dir: string;
let r1cs: string;
let ptau: string;
/** fresh keys; + a contribution; + a beacon */
let key0: string;
let key1: string;
let key2: string;
let hash1: string;
let hash2: string;

/** iden3's container as [id, bytes] in file order (magic, version, count, then id, u64 size, bytes). */
async function sectionsOf(file: string): Promise<Array<[number, Uint8Array]>> {
  const b = new Uint8Array(await readFile(file));
  const v = new DataView(b.buffer, b.byteOffset);
  const out: Array<[number, Uint8Array]> = [];
  let p = 12;
  for (let n = v.getUint32(8, true); n > 0; n--) {
    const size = Number(v.getBigUint64(p + 4, true));
    out.push([v.getUint32(p, true), b.slice(p + 12, p + 12 + size)]);
    p += 12 + size;
  }
  return out;
}

async function writeSections(file: string, list: Array<[number, Uint8Array]>): Promise<void> {
  const head = new Uint8Array(12);
  head.set(new TextEncoder().encode('zkey'));
  new DataView(head.buffer).setUint32(4, 1, true);
  new DataView(head.buffer).setUint32(8, list.length, true);
  const parts: Uint8Array[] = [head];
  for (const [id, data] of list) {
    const h = new Uint8Array(12);
    new DataView(h.buffer).setUint32(0, id, true);
    new DataView(h.buffer).setBigUint64(4, BigInt(data.byteLength), true);
    parts.push(h, data);
  }
  await writeFile(file, Buffer.concat(parts));
}

/** A copy of `from` with `edit` applied to its sections. */
async function tampered(name: string, from: string, edit: (s: Map<number, Uint8Array>) => void | Promise<void>): Promise<string> {
  const list = await sectionsOf(from);
  const map = new Map(list);
  await edit(map);
  const file = join(dir, `${name}.zkey`);
  await writeSections(file, list.map(([id]) => [id, map.get(id)!]));
  return file;
}

/** Swaps the first two points of a section that differ (valid points, wrong places). */
function swapPoints(s: Uint8Array, size: number): void {
  const at = (i: number) => Buffer.from(s.subarray(i * size, (i + 1) * size));
  const j = Array.from({ length: s.byteLength / size }, (_, i) => i).find((i) => i > 0 && !at(i).equals(at(0)));
  if (j === undefined) throw new Error('no two different points to swap');
  const a = at(0);
  s.copyWithin(0, j * size, (j + 1) * size);
  s.set(a, j * size);
}

async function snarkjsAccepts(zkey: string, withPtau = ptau, withR1cs = r1cs): Promise<boolean> {
  const log = console.log;
  console.log = () => {}; // zkey_verify_frominit.js logs some of its verdicts with console.log
  try {
    return await snarkjs.zKey.verifyFromR1cs(withR1cs, withPtau, zkey, quiet);
  } catch {
    return false;
  } finally {
    console.log = log;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkonnx-verify-zkey-'));
  const made = await mixedCircuitWithPtau(dir);
  r1cs = made.circuit.r1csPath;
  ptau = made.ptau;
  key0 = join(dir, 'k0.zkey');
  key1 = join(dir, 'k1.zkey');
  key2 = join(dir, 'k2.zkey');
  await fastGroth16Keys({ r1csPath: r1cs, ptauPath: ptau, zkeyPath: key0 });
  hash1 = Buffer.from(await contributePhase2(key0, key1, 'bob', { entropy: 'bob types this' })).toString('hex');
  hash2 = Buffer.from(await contributePhase2(key1, key2, 'the beacon', { beaconHash: BEACON, iterationsExp: 10 })).toString('hex');
}, 120_000);

afterAll(async () => {
  await releaseCurves();
  await rm(dir, { recursive: true, force: true });
});

describe('verifyZkey', () => {
  it('accepts fresh keys, a contribution and a beacon, and lists the contributions with their hashes', async () => {
    for (const k of [key0, key1, key2]) {
      const r = await verifyZkey(r1cs, ptau, k);
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(true);
      expect(await snarkjsAccepts(k)).toBe(true);
    }
    const r = await verifyZkey(r1cs, ptau, key2);
    expect(r.contributions.map((c) => c.name)).toEqual(['zkonnx fast setup (single party)', 'bob', 'the beacon']);
    expect(r.contributions[1]!.hash).toBe(hash1);
    expect(r.contributions[2]).toMatchObject({ hash: hash2, beacon: { hash: BEACON, iterationsExp: 10 } });
  }, 60_000);

  // each: the key, how it is spoiled, what our verdict must name
  const cases: Array<[string, () => string, (s: Map<number, Uint8Array>) => void | Promise<void>, RegExp]> = [
    ['IC points swapped', () => key1, (s) => swapPoints(s.get(3)!, 64), /section 3 \(IC\)/],
    ['a coefficient changed', () => key1, (s) => void (s.get(4)![4 + 12] ^= 1), /section 4 \(coefficients\)/],
    ['A points swapped', () => key1, (s) => swapPoints(s.get(5)!, 64), /section 5 \(A\)/],
    ['B1 points swapped', () => key1, (s) => swapPoints(s.get(6)!, 64), /section 6 \(B1\)/],
    ['B2 points swapped', () => key1, (s) => swapPoints(s.get(7)!, 128), /section 7 \(B2\)/],
    ['C points swapped', () => key1, (s) => swapPoints(s.get(8)!, 64), /section 8 \(C\)/],
    ['H points swapped', () => key1, (s) => swapPoints(s.get(9)!, 64), /section 9 \(H\)/],
    ['a C point off the curve', () => key1, (s) => void (s.get(8)![2 * 64 + 32] ^= 1), /section 8 \(C\): its point 2 is not on the curve/],
    ['a byte of an H point flipped', () => key2, (s) => void (s.get(9)![70] ^= 0x10), /section 9 \(H\): its point 1 is not on the curve/],
    ['C and H not divided by the last contribution\'s δ', () => key1, async (s) => {
      const old = new Map(await sectionsOf(key0));
      s.set(8, old.get(8)!);
      s.set(9, old.get(9)!);
    }, /section 8 \(C\)[^]*section 9 \(H\)/],
    ['the header\'s δ of an earlier key', () => key1, async (s) => void s.set(2, new Map(await sectionsOf(key0)).get(2)!), /δ₁ of the header/],
    ['a transcript byte flipped', () => key1, (s) => void (s.get(10)![64 + 4 + 3 * 64 + 128] ^= 1), /contribution 1 .*transcript/],
    ['the beacon\'s hash changed', () => key2, (s) => {
      const mpc = s.get(10)!;
      const at = Buffer.from(mpc).indexOf(Buffer.from(BEACON, 'hex'));
      mpc[at] ^= 1;
    }, /contribution 3 \(the beacon\): its keys are not the beacon's/],
    ['the header\'s δ₂ replaced by a point of the twist outside G2', () => key1, async (s) => void s.get(2)!.set((await twistPoint()).subarray(0, 128), 532), /δ₂ of the header is not a point of G2/],
    ['a later contribution dropped', () => key2, async (s) => void s.set(10, new Map(await sectionsOf(key1)).get(10)!), /δ₁ of the header/],
  ];
  for (const [what, key, edit, names] of cases) {
    it(`rejects ${what}, as snarkjs does`, async () => {
      const file = await tampered(what.replace(/\W+/g, '-'), key(), edit);
      const r = await verifyZkey(r1cs, ptau, file);
      expect(r.ok).toBe(false);
      expect(r.errors.join('\n')).toMatch(names);
      expect(await snarkjsAccepts(file)).toBe(false);
    }, 60_000);
  }

  it('accepts keys whose domain is the ptau\'s whole power (H checked up to the last power of τ in the file)', async () => {
    const chain = writeChainR1cs(8, join(dir, 'chain8.r1cs')); // domain 2^8
    const p8 = join(dir, 'p8.ptau');
    await generatePreparedPtau(8, p8);
    const k = join(dir, 'chain8.zkey');
    await fastGroth16Keys({ r1csPath: chain, ptauPath: p8, zkeyPath: k });
    const r = await verifyZkey(chain, p8, k);
    expect(r.errors).toEqual([]);
    expect(await snarkjsAccepts(k, p8, chain)).toBe(true);
    const bad = await tampered('chain8-h', k, (s) => swapPoints(s.get(9)!, 64));
    expect((await verifyZkey(chain, p8, bad)).errors.join('\n')).toMatch(/section 9 \(H\)/);
  }, 60_000);

  it('rejects the keys against another ptau, and the keys of another circuit', async () => {
    const other = join(dir, 'other.ptau');
    await generatePreparedPtau(6, other);
    const r = await verifyZkey(r1cs, other, key1);
    expect(r.ok).toBe(false);
    expect(r.errors.join('\n')).toMatch(/α₁ is not the ptau's/);
    expect(await snarkjsAccepts(key1, other)).toBe(false);

    const chain = writeChainR1cs(5, join(dir, 'chain5.r1cs'));
    const c = await verifyZkey(chain, ptau, key1);
    expect(c.ok).toBe(false);
    expect(c.errors.join('\n')).toMatch(/the key of another circuit/);
    expect(await snarkjsAccepts(key1, ptau, chain)).toBe(false);
  }, 60_000);
});
