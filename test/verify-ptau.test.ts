// `setup verify-ptau` (src/setup/verify-ptau.ts): snarkjs's powersoftau verify verdict on our MSM.
// Good files (ours, a snarkjs ceremony with a contribution and a beacon, truncated, unprepared)
// pass with their contributions listed; each spoiled file fails with the message that names the
// section, level or contribution, and snarkjs rejects the same file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPtau } from '../src/api.js';
import { ZkonnxError } from '../src/errors.js';
import { generatePreparedPtau } from '../src/setup/fast-ptau.js';
import { blake2b512, firstChallengeHash } from '../src/setup/fast/blake2b.js';
import { initialChallenge } from '../src/setup/verify-ptau.js';
import { twistPoint } from './helpers/twist-point.js';
import { snarkjsInternals } from '../src/setup/fast/snarkjs-internals.js';
import { releaseCurves, snarkjs } from '../src/snark.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const POWER = 5;
const G1 = 64;
const G2 = 128;

let dir: string;
let ours: string; // our fast local file: one contribution
let ceremony: string; // snarkjs: new, contribute (alice), beacon, prepare phase2
let aliceHash: string;
let twist: Uint8Array;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkonnx-verify-ptau-'));
  ours = join(dir, 'ours.ptau');
  await generatePreparedPtau(POWER, ours);
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  twist = await twistPoint();
  const p0 = join(dir, 'c0.ptau');
  await snarkjs.powersOfTau.newAccumulator(curve, POWER, p0, quiet);
  aliceHash = Buffer.from(await snarkjs.powersOfTau.contribute(p0, join(dir, 'c1.ptau'), 'alice', 'some entropy', quiet)).toString('hex');
  await snarkjs.powersOfTau.beacon(join(dir, 'c1.ptau'), join(dir, 'c2.ptau'), 'final beacon', '0102030405060708090a', 10, quiet);
  ceremony = join(dir, 'ceremony.ptau');
  await snarkjs.powersOfTau.preparePhase2(join(dir, 'c2.ptau'), ceremony, quiet);
}, 120_000);
afterAll(async () => {
  await releaseCurves();
  await rm(dir, { recursive: true, force: true });
});

async function sectionsOf(file: string): Promise<Record<number, { p: number; size: number }>> {
  const I = await snarkjsInternals();
  const { fd, sections } = await I.binFileUtils.readBinFile(file, 'ptau', 1);
  await fd.close();
  return Object.fromEntries(Object.keys(sections).filter((k) => sections[k]).map((k) => [Number(k), sections[k][0]]));
}

/** A copy of `file` with points i and j of section `id` (each `size` bytes) swapped. */
async function swapped(file: string, id: number, size: number, i: number, j: number, name: string): Promise<string> {
  const s = (await sectionsOf(file))[id]!;
  const b = readFileSync(file);
  const a = Buffer.from(b.subarray(s.p + i * size, s.p + (i + 1) * size));
  b.copy(b, s.p + i * size, s.p + j * size, s.p + (j + 1) * size);
  a.copy(b, s.p + j * size);
  const out = join(dir, name);
  writeFileSync(out, b);
  return out;
}

/** A copy of `file` with the lowest byte of point i's y in section `id` changed: off the curve. */
async function offCurve(file: string, id: number, size: number, i: number, name: string): Promise<string> {
  const s = (await sectionsOf(file))[id]!;
  const b = readFileSync(file);
  b[s.p + i * size + size / 2]! ^= 1;
  const out = join(dir, name);
  writeFileSync(out, b);
  return out;
}

/** A copy of `file` with its contributions (section 7) changed by `edit` and other sections as they are (or as `sections` gives them). */
async function rewritten(file: string, name: string, edit: (cs: any[]) => any[], sections: Record<number, Uint8Array> = {}): Promise<string> {
  const I = await snarkjsInternals();
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const { fd, sections: secs } = await I.binFileUtils.readBinFile(file, 'ptau', 1);
  const cs = edit(await I.ptauUtils.readContributions(fd, curve as never, secs));
  const out = join(dir, name);
  const fdOut = await I.binFileUtils.createBinFile(out, 'ptau', 1, 15);
  for (const id of [1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]) {
    if (!secs[id]) continue;
    if (id === 7) await I.ptauUtils.writeContributions(fdOut, curve as never, cs);
    else if (sections[id]) {
      await I.binFileUtils.startWriteSection(fdOut, id);
      await fdOut.write(sections[id]);
      await I.binFileUtils.endWriteSection(fdOut);
    } else await I.binFileUtils.copySection(fd, secs, fdOut, id);
  }
  await fdOut.close();
  await fd.close();
  return out;
}

async function snarkjsRejects(file: string): Promise<boolean> {
  try {
    return !(await snarkjs.powersOfTau.verify(file, quiet));
  } catch {
    return true;
  }
}

describe('verifyPtau accepts', () => {
  it('our local file: one contribution, its hashes as snarkjs reads them', async () => {
    const r = await verifyPtau({ ptau: ours });
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ ok: true, power: POWER, ceremonyPower: POWER, prepared: true });
    expect(r.notes).toEqual(['one contribution: the file is as trustworthy as its one contributor (a public ceremony has many)']);
    expect(r.contributions).toHaveLength(1);
    expect(r.contributions[0]!.name).toMatch(/zkonnx fast local setup/);
    expect(r.contributions[0]!.responseHash).toMatch(/^[0-9a-f]{128}$/);
  });

  it('a snarkjs ceremony: a contribution and a beacon, the contributor\'s published hash listed', async () => {
    const r = await verifyPtau({ ptau: ceremony });
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.contributions.map((c) => c.name)).toEqual(['alice', 'final beacon']);
    expect(r.contributions[0]!.responseHash).toBe(aliceHash);
    expect(r.contributions[1]!.beacon).toEqual({ hash: '0102030405060708090a', iterationsExp: 10 });
  });

  it('unprepared and truncated files, each with a note on what it cannot be checked for', async () => {
    const unprepared = await verifyPtau({ ptau: join(dir, 'c2.ptau') });
    expect(unprepared).toMatchObject({ ok: true, prepared: false });
    expect(unprepared.notes.join()).toMatch(/not prepared for phase 2/);
    await snarkjs.powersOfTau.truncate(ceremony, join(dir, 'trunc_'), quiet);
    const truncated = await verifyPtau({ ptau: join(dir, 'trunc_03.ptau') });
    expect(truncated.errors).toEqual([]);
    expect(truncated).toMatchObject({ ok: true, power: 3, ceremonyPower: POWER });
    expect(truncated.notes.join()).toMatch(/truncated from a ceremony of 2\^5/);
  });
});

describe('verifyPtau rejects, as snarkjs does', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['two τ·G1 powers swapped', () => swapped(ours, 2, G1, 9, 10, 's2.ptau'), /section 2 \(tauG1\): its points are not consecutive powers of τ/],
    ['two τ·G2 powers swapped', () => swapped(ours, 3, G2, 3, 4, 's3.ptau'), /section 3 \(tauG2\): its points are not consecutive powers of τ/],
    ['two α·τ powers swapped', () => swapped(ours, 4, G1, 20, 30, 's4.ptau'), /section 4 \(alphaTauG1\): its points are not consecutive powers of τ/],
    ['two β·τ powers swapped', () => swapped(ceremony, 5, G1, 0, 1, 's5.ptau'), /section 5 \(betaTauG1\): its points are not consecutive powers of τ/],
    ['a τ·G1 power off the curve', () => offCurve(ours, 2, G1, 6, 'c2.ptau'), /section 2 \(tauG1\): its point 6 is not on the curve\n/],
    ['a Lagrange α·τ point off the curve', () => offCurve(ours, 14, G1, 40, 'c14.ptau'), /section 14 \(Lagrange alphaTauG1\): its point 40 is not on the curve\n/],
    ['a Lagrange τ·G2 point off the twist', () => offCurve(ours, 13, G2, 3, 'c13.ptau'), /section 13 \(Lagrange tauG2\): its point 3 is not on the curve of G2 \(the twist\)/],
    ['β·G2 replaced by τ·G2', async () => {
      const s = await sectionsOf(ours);
      const b = readFileSync(ours);
      b.copy(b, s[6]!.p, s[3]!.p + G2, s[3]!.p + 2 * G2);
      writeFileSync(join(dir, 's6.ptau'), b);
      return join(dir, 's6.ptau');
    }, /section 6 \(betaG2\): it is not the last contribution's β·G2/],
    ['the last next-challenge hash changed', () => rewritten(ours, 'next.ptau', (cs) => (cs[0].nextChallenge[5] ^= 1, cs)), /the hash of its points is not the last contribution's next challenge/],
    ['a contribution\'s τ key swapped with its α key', () => rewritten(ceremony, 'pok.ptau', (cs) => {
      [cs[0].key.tau.g1_sx, cs[0].key.alpha.g1_sx] = [cs[0].key.alpha.g1_sx, cs[0].key.tau.g1_sx];
      return cs;
    }), /contribution 1 \(alice\): its proof of knowledge of tau does not hold/],
    ['a contribution key\'s G2 point replaced by a twist point outside G2', () => rewritten(ceremony, 'twist.ptau', (cs) => (cs[0].key.alpha.g2_spx = twist, cs)), /contribution 1 \(alice\): its alpha key g2_spx is not a point of G2/],
    ['the beacon hash changed', () => rewritten(ceremony, 'beacon.ptau', (cs) => (cs[1].beaconHash[0] ^= 1, cs)), /contribution 2 \(final beacon\): its keys are not the beacon's/],
    ['a contribution\'s τ·G1 replaced by its α·G1', () => rewritten(ceremony, 'chain.ptau', (cs) => (cs[0].tauG1 = cs[0].alphaG1, cs)), /contribution 1 \(alice\): its τ·G1 does not follow the contribution before/],
    ['the first contribution dropped', () => rewritten(ceremony, 'dropped.ptau', (cs) => cs.slice(1)), /contribution 1 \(final beacon\): its proof of knowledge of tau does not hold/],
  ];
  for (const [what, make, message] of cases) {
    it(what, async () => {
      const file = await make();
      const r = await verifyPtau({ ptau: file });
      expect(r.ok).toBe(false);
      expect(r.errors.join('\n')).toMatch(message);
      expect(r.errors.every((e) => e.startsWith(`${file}: `))).toBe(true);
      expect(await snarkjsRejects(file)).toBe(true);
    });
  }

  // a Lagrange level spoiled: that level named and nothing else (sections 12+ are not hashed)
  const levels: [number, string, number, number, string][] = [
    [12, 'tauG1', G1, 3, 'l12-3.ptau'],
    [12, 'tauG1', G1, POWER + 1, 'l12-top.ptau'],
    [13, 'tauG2', G2, POWER, 'l13.ptau'],
    [14, 'alphaTauG1', G1, 2, 'l14.ptau'],
    [15, 'betaTauG1', G1, 4, 'l15.ptau'],
  ];
  for (const [id, label, size, level, name] of levels) {
    it(`section ${id} (${label}): two points of level 2^${level} swapped`, async () => {
      const from = 2 ** level - 1;
      const file = await swapped(ours, id, size, from + 1, from + 2, name);
      const r = await verifyPtau({ ptau: file });
      expect(r.errors).toEqual([`${file}: section ${id} (Lagrange ${label}): its level 2^${level} is not the Lagrange basis of section ${id - 10}'s first 2^${level} points`]);
      expect(await snarkjsRejects(file)).toBe(true);
    });
  }

  it('a file of 2^11: levels above 2^10 checked one by one, the smaller ones together, each wrong one named', async () => {
    const big = join(dir, 'p11.ptau');
    await generatePreparedPtau(11, big);
    expect((await verifyPtau({ ptau: big })).ok).toBe(true);
    let file = await swapped(big, 12, G1, 2 ** 12 - 1 + 5, 2 ** 12 - 1 + 4000, 'p11-a.ptau'); // top level 2^12
    file = await swapped(file, 13, G2, 2 ** 11 - 1 + 7, 2 ** 11 - 1 + 8, 'p11-b.ptau'); // level 2^11
    file = await swapped(file, 14, G1, 2 ** 4 - 1, 2 ** 4, 'p11-c.ptau'); // level 2^4
    file = await swapped(file, 15, G1, 2 ** 10 - 1 + 3, 2 ** 10 - 1 + 9, 'p11-d.ptau'); // level 2^10
    const r = await verifyPtau({ ptau: file });
    expect(r.errors.map((e) => e.replace(/^.*?: section/, 'section').replace(/ is not the Lagrange basis.*/, ''))).toEqual([
      'section 12 (Lagrange tauG1): its level 2^12',
      'section 13 (Lagrange tauG2): its level 2^11',
      'section 14 (Lagrange alphaTauG1): its level 2^4',
      'section 15 (Lagrange betaTauG1): its level 2^10',
    ]);
    expect(await snarkjsRejects(file)).toBe(true);
  }, 60_000);

  it('the contributions of another ceremony', async () => {
    const I = await snarkjsInternals();
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    const { fd, sections } = await I.binFileUtils.readBinFile(ceremony, 'ptau', 1);
    const theirs = await I.ptauUtils.readContributions(fd, curve as never, sections);
    await fd.close();
    const file = await rewritten(ours, 'other.ptau', () => theirs);
    const r = await verifyPtau({ ptau: file });
    expect(r.errors.join('\n')).toMatch(/section 2 \(tauG1\): its second point is not the last contribution's τ·G1/);
    expect(await snarkjsRejects(file)).toBe(true);
  });

  it('wrong sizes, duplicated sections and no contribution: named before any point is read', async () => {
    const s = await sectionsOf(ours);
    const short = await rewritten(ours, 'short.ptau', (cs) => cs, { 15: readFileSync(ours).subarray(s[15]!.p, s[15]!.p + s[15]!.size - G1) });
    expect((await verifyPtau({ ptau: short })).errors).toEqual([`${short}: section 15 holds ${s[15]!.size - G1} bytes, 2^5 needs ${2 ** (POWER + 1) - 1} G1 points (${s[15]!.size} bytes)`]);
    const none = await rewritten(ours, 'none.ptau', () => []);
    expect((await verifyPtau({ ptau: none })).errors).toEqual([`${none}: it holds no contribution: its powers are of τ = 1`]);
    // section 2 twice: a file whose bytes end with a second copy of it
    const b = readFileSync(ours);
    const dup = join(dir, 'dup.ptau');
    const head = Buffer.alloc(12);
    head.writeUInt32LE(2, 0);
    head.writeBigUInt64LE(BigInt(s[2]!.size), 4);
    const nSections = b.readUInt32LE(8);
    const out = Buffer.concat([b, head, b.subarray(s[2]!.p, s[2]!.p + s[2]!.size)]);
    out.writeUInt32LE(nSections + 1, 8);
    writeFileSync(dup, out);
    expect((await verifyPtau({ ptau: dup })).errors).toContain(`${dup}: section 2 appears 2 times`);
  });

  it('a file that is not a ptau, or is missing: a clear error', async () => {
    const notPtau = join(dir, 'x.ptau');
    writeFileSync(notPtau, 'hello');
    await expect(verifyPtau({ ptau: notPtau })).rejects.toThrow(/is not a ptau file/);
    await expect(verifyPtau({ ptau: join(dir, 'missing.ptau') })).rejects.toBeInstanceOf(ZkonnxError);
    await expect(verifyPtau({ ptau: dir })).rejects.toThrow(/cannot be read/);
  });
});

describe('the initial challenge of a large ceremony', () => {
  it('is hashed once and kept in the cache (a public ceremony of 2^28 hashes ~100 GiB for it)', async () => {
    const before = process.env.ZKONNX_CACHE;
    process.env.ZKONNX_CACHE = join(dir, 'cache');
    try {
      const curve: any = await snarkjs.curves.getCurveFromName('bn128');
      const u = (g: 'G1' | 'G2') => {
        const b = new Uint8Array(curve[g].F.n8 * 2);
        curve[g].toRprUncompressed(b, 0, curve[g].g);
        return b;
      };
      const want = Buffer.from(firstChallengeHash(u('G1'), u('G2'), 20)).toString('hex');
      const cached = join(dir, 'cache', 'ptau', 'first-challenge-bn128-20.hex');
      expect(Buffer.from(await initialChallenge(curve, 20)).toString('hex')).toBe(want);
      expect(readFileSync(cached, 'utf8')).toBe(want);
      // read back, not hashed again: a value planted in the cache comes back
      const planted = Buffer.from(blake2b512().update(new Uint8Array([1])).digest()).toString('hex');
      writeFileSync(cached, planted);
      expect(Buffer.from(await initialChallenge(curve, 20)).toString('hex')).toBe(planted);
      // a damaged cache file is hashed again and rewritten
      writeFileSync(cached, 'not a hash');
      expect(Buffer.from(await initialChallenge(curve, 20)).toString('hex')).toBe(want);
      expect(readFileSync(cached, 'utf8')).toBe(want);
      // small ceremonies are not cached
      await initialChallenge(curve, 6);
      expect(existsSync(join(dir, 'cache', 'ptau', 'first-challenge-bn128-6.hex'))).toBe(false);
    } finally {
      if (before === undefined) delete process.env.ZKONNX_CACHE;
      else process.env.ZKONNX_CACHE = before;
    }
  });
});
