// The in-browser prover (issue 8): `zkonnx app`'s server with the bundled MNIST model compiled and
// set up, headless Chromium drawing a 7 on the page, proving with WebAssembly (and with WebGPU
// where Chromium has an adapter), the proof checked in Node with snarkjs and against a Node proof
// of the same input; the downloaded proof.json too; a model over the page's memory budget is
// refused before any download.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { startApp, type AppServer } from '../src/app/server.js';
import { releaseCurves } from '../src/snark.js';
import { CHROMIUM, drawSeven, launchChromium, proveOnPage, webgpuAdapter } from './helpers/browser.js';

const root = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'zkonnx-app-'));
const buildDir = join(work, 'models', 'mnist-mlp');

describe.skipIf(!CHROMIUM)('in-browser prover (headless Chromium)', () => {
  let server: AppServer;
  let browser: Browser;
  let page: Page;
  let vkey: object;

  beforeAll(async () => {
    const model = join(root, 'models', 'mnist-mlp');
    await api.compile({ model: join(model, 'model.onnx'), outDir: buildDir, calibration: join(model, 'calibration.json') });
    await api.setup({ buildDir });
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
  });

  it('lists the model and predicts the drawn digit with the integer executor', async () => {
    expect(await page.locator('#model option').allTextContents()).toEqual(['mnist-mlp']);
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
    expect(models.map((m) => [m.id, m.digit])).toEqual([['mnist-mlp', 14]]);
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
