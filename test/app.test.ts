// The in-browser prover (issue 8): `zkonnx app`'s server with the bundled MNIST model compiled and
// set up, headless Chromium drawing a 7 on the page, proving with WebAssembly (and with WebGPU
// where Chromium has an adapter), the proof checked in Node with snarkjs and against a Node proof
// of the same input; the downloaded proof.json too; a model over the page's memory budget is
// refused before any download. And (issue 18): Prove is disabled while the input is invalid, an
// argmax prediction is shown for classifiers only, and no path outside the page folder is served.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { buildModel } from '../src/onnx/write.js';
import { startApp, type AppServer } from '../src/app/server.js';
import { releaseCurves } from '../src/snark.js';
import { CHROMIUM, drawSeven, launchChromium, proveOnPage, webgpuAdapter } from './helpers/browser.js';

const root = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-app-'));
const buildDir = join(work, 'models', 'mnist-mlp');
const regressorDir = join(work, 'models', 'regressor');

/** A model that is not a classifier: 4 numbers in, a 2×2 grid of numbers out. */
async function buildRegressor(): Promise<void> {
  const onnx = join(work, 'regressor.onnx');
  writeFileSync(onnx, buildModel({
    graphName: 'regressor', inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y', shape: [1, 2, 2] }],
    initializers: [
      { name: 'W', dims: [4, 4], data: new Float32Array([0.5, -0.25, 0.75, 1, 0.125, -0.5, -1, 0.25, 0.5, 0.3, -0.7, 0.9, 0.2, 0.1, -0.3, 0.4]) },
      { name: 'B', dims: [4], data: new Float32Array([0.1, 0.2, -0.3, 0.05]) },
      { name: 'S', dims: [3], data: new BigInt64Array([1n, 2n, 2n]) },
    ],
    nodes: [
      { name: '/fc/Gemm', op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['h'] },
      { name: '/Relu', op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { name: '/Reshape', op: 'Reshape', inputs: ['r', 'S'], outputs: ['y'] },
    ],
  }));
  writeFileSync(join(work, 'regressor-calibration.json'), JSON.stringify([{ input_data: [[0.5, -0.25, 1, 0.75]] }, { input_data: [[-1, 1, -0.5, 0.25]] }]));
  await api.compile({ model: onnx, outDir: regressorDir, calibration: join(work, 'regressor-calibration.json') });
  await api.setup({ buildDir: regressorDir });
}

/** A GET exactly as written (fetch would normalize `/..` away): status and body. */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { method: 'GET', path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

const jsonFile = (name: string, value: unknown) => ({ name, mimeType: 'application/json', buffer: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) });

describe.skipIf(!CHROMIUM)('in-browser prover (headless Chromium)', () => {
  let server: AppServer;
  let browser: Browser;
  let page: Page;
  let vkey: object;

  beforeAll(async () => {
    const model = join(root, 'models', 'mnist-mlp');
    await api.compile({ model: join(model, 'model.onnx'), outDir: buildDir, calibration: join(model, 'calibration.json') });
    await api.setup({ buildDir });
    await buildRegressor();
    vkey = JSON.parse(readFileSync(join(buildDir, 'verification_key.json'), 'utf8'));
    server = await startApp({ models: join(work, 'models'), port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
    page.on('console', (m) => { if (m.type() === 'error') console.error(`[page] ${m.text()}`); });
    await page.goto(`${server.url}/?model=mnist-mlp`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await releaseCurves();
    rmSync(work, { recursive: true, force: true });
  });

  it('lists the model and predicts the drawn digit with the integer executor', async () => {
    expect(await page.locator('#model option').allTextContents()).toEqual(['mnist-mlp', 'regressor']);
    await drawSeven(page);
    await expect.poll(() => page.locator('#prediction').textContent()).toBe('→ 7');
    expect(await page.locator('#prove').isEnabled()).toBe(true);
  });

  async function checkInNode(r: Awaited<ReturnType<typeof proveOnPage>>) {
    expect(r.verified).toBe(true);
    expect(await snarkjs.groth16.verify(vkey as never, r.publicSignals, r.proof as never)).toBe(true);
    // the same input proven in Node has the same public outputs
    const node = await api.prove({ buildDir, input: { input_data: [r.input] }, name: 'node' });
    expect(r.publicSignals).toEqual(node.publicSignals);
    // a changed output does not verify
    const forged = [...r.publicSignals];
    forged[0] = (BigInt(forged[0]!) + 1n).toString();
    expect(await snarkjs.groth16.verify(vkey as never, forged, r.proof as never)).toBe(false);
  }

  it('proves with WebAssembly in the page; snarkjs in Node accepts the proof', async () => {
    const r = await proveOnPage(page, 'wasm');
    expect(r.backend).toMatch(/^wasm/);
    await checkInNode(r);
    // the downloaded files are the same proof
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-proof')]);
    const proof = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(await snarkjs.groth16.verify(vkey as never, r.publicSignals, proof)).toBe(true);
    await expect.poll(() => page.locator('#verdict').textContent()).toMatch(/^Verified/);
  }, 300_000);

  it('proves with WebGPU in the page where Chromium has an adapter', async (ctx) => {
    const adapter = await webgpuAdapter(page);
    if (!adapter) ctx.skip();
    const r = await proveOnPage(page, 'webgpu', 600_000);
    expect(r.backend).toMatch(/^webgpu/);
    await checkInNode(r);
  }, 700_000);

  it('the second proof takes the artifacts from the browser cache', async () => {
    const r = await proveOnPage(page, 'wasm');
    expect(r.verified).toBe(true);
    const fromCache = await page.evaluate(async () => (await (await caches.open('zkonnx-artifacts-v1')).keys()).map((k) => new URL(k.url).pathname));
    expect(fromCache).toEqual(expect.arrayContaining(['/models/mnist-mlp/circuit_final.zkey', '/models/mnist-mlp/wires.bin']));
  }, 300_000);

  it('disables Prove while the input is invalid (wrong size, out of range, not JSON), and enables it again on a valid one', async () => {
    expect(await page.locator('#prove').isEnabled()).toBe(true);
    const bad = [
      [jsonFile('short.json', { input_data: [[0.1, 0.2, 0.3]] }), /196 values, got 3/],
      [jsonFile('bright.json', { input_data: [Array(196).fill(50)] }), /lies outside the range/],
      [jsonFile('broken.json', '{"input_data": [[0.1,'), /broken\.json: .*JSON/],
    ] as const;
    for (const [file, message] of bad) {
      await page.setInputFiles('#input-file', file);
      await expect.poll(() => page.locator('#status').textContent()).toMatch(message);
      expect(await page.locator('#prove').isDisabled(), file.name).toBe(true);
      expect(await page.locator('#prediction').textContent()).toBe('');
    }
    // a valid input: drawn again
    await page.click('#clear');
    await drawSeven(page);
    await expect.poll(() => page.locator('#prediction').textContent()).toBe('→ 7');
    expect(await page.locator('#prove').isEnabled()).toBe(true);
  }, 60_000);

  it('shows an argmax prediction only for classifiers (one output of shape [C] or [1, C], C ≥ 2)', async () => {
    const models = (await (await fetch(`${server.url}/api/models`)).json()) as { id: string; classifier: boolean }[];
    expect(models.map((m) => [m.id, m.classifier])).toEqual([['mnist-mlp', true], ['regressor', false]]);
    await page.selectOption('#model', 'regressor');
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/Upload an input file/);
    await page.setInputFiles('#input-file', jsonFile('x.json', { input_data: [[0.5, -0.25, 1, 0.75]] }));
    await expect.poll(() => page.locator('#bars span').count()).toBe(8);
    const shown = (await page.locator('#prediction').textContent())!;
    expect(shown).not.toMatch(/→\s*\d+$/);
    expect(shown).toMatch(/y \[1,2,2\]/);
    expect(await page.locator('#bars .bar.top').count()).toBe(0);
    expect(await page.locator('#bars span').first().textContent()).toBe('y[0,0,0]');
    expect(await page.locator('#prove').isEnabled()).toBe(true);
    await page.selectOption('#model', 'mnist-mlp');
  }, 60_000);

  it('refuses a model over the memory budget before it starts', async () => {
    const p2 = await browser.newPage();
    await p2.goto(`${server.url}/?model=mnist-mlp&memoryMiB=1`);
    await p2.waitForSelector('body[data-ready="1"]');
    await expect.poll(() => p2.locator('#status').textContent()).toMatch(/mnist-mlp needs about .* MiB to prove in a browser; this page allows 1\.0 MiB/);
    await drawSeven(p2);
    await p2.click('#prove');
    await expect.poll(() => p2.locator('#status').textContent()).toMatch(/needs about/);
    expect(await p2.evaluate(() => (window as unknown as { zkonnxResult?: unknown }).zkonnxResult)).toBeUndefined();
    await p2.close();
  }, 120_000);

  it('never serves a file outside the page folder: /.. and %2e%2e are a 400 or 404, not a 500', async () => {
    const outside = readFileSync(join(root, 'package.json'), 'utf8').slice(0, 40);
    for (const path of ['/..', '/%2e%2e', '/%2E%2E', '/.', '/%2e', '/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/%2e%2e%2fpackage.json',
      '/..%5cpackage.json', '/%00', '/models/mnist-mlp/..', '/models/mnist-mlp/%2e%2e', '/models/..%2f..%2f/settings.json', '/models/mnist-mlp/constructor', '/models/mnist-mlp/__proto__']) {
      const r = await rawGet(server.url, path);
      expect([400, 404], `${path}: ${r.status} ${r.body.slice(0, 200)}`).toContain(r.status);
      expect(r.body).not.toContain(outside);
    }
    expect((await rawGet(server.url, '/app.css')).status).toBe(200);
  });

  it('serves only the artifacts of known models', async () => {
    expect((await fetch(`${server.url}/models/mnist-mlp/circuit.r1cs`)).status).toBe(404);
    expect((await fetch(`${server.url}/models/nope/circuit_final.zkey`)).status).toBe(404);
    expect((await fetch(`${server.url}/..%2Fpackage.json`)).status).toBe(404);
    const z = await fetch(`${server.url}/models/mnist-mlp/circuit_final.zkey`);
    const etag = z.headers.get('etag')!;
    expect(Number(z.headers.get('content-length'))).toBeGreaterThan(1000);
    await z.arrayBuffer();
    expect((await fetch(`${server.url}/models/mnist-mlp/circuit_final.zkey`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
  });

  it('`zkonnx app` serves the page until SIGTERM; a missing models folder exits 1 with a message', async () => {
    const cli = join(root, 'dist', 'src', 'cli', 'main.js');
    const child = spawn(process.execPath, [cli, 'app', '--models', join(work, 'models'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { const m = /open (http:\/\/\S+)\//.exec(d.toString()); if (m) resolve(m[1]!); });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const models = (await (await fetch(`${url}/api/models`)).json()) as { id: string; digit?: number }[];
    expect(models.map((m) => [m.id, m.digit])).toEqual([['mnist-mlp', 14], ['regressor', undefined]]);
    const index = await fetch(`${url}/`);
    expect(index.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(await index.text()).toMatch(/<canvas id="canvas"/);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const bad = spawn(process.execPath, [cli, 'app', '--models', join(work, 'nope'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    expect(await new Promise<number | null>((r) => bad.once('exit', r))).toBe(1);
    expect(err).toMatch(/--models .*nope is not a folder/);
  }, 60_000);
});
