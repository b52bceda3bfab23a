// Headless Chromium for the in-browser prover: Debian's `chromium` (installed by .ci/run) driven
// by playwright-core, WebGPU enabled (Chromium exposes SwiftShader's adapter where no GPU is).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = [process.env.ZKONNX_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));

export function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('no Chromium: install Debian\'s `chromium` or set ZKONNX_CHROMIUM');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--enable-unsafe-webgpu', '--no-sandbox'] });
}

/** Draws a 7 on the page's digit canvas with the mouse. */
export async function drawSeven(page: Page): Promise<void> {
  const box = (await page.locator('#canvas').boundingBox())!;
  const at = (x: number, y: number) => [box.x + (x / 280) * box.width, box.y + (y / 280) * box.height] as const;
  await page.mouse.move(...at(70, 60));
  await page.mouse.down();
  for (const [x, y] of [[140, 58], [215, 60], [180, 130], [150, 190], [125, 245]] as const) await page.mouse.move(...at(x, y), { steps: 8 });
  await page.mouse.up();
}

export interface PageResult {
  proof: Record<string, unknown>;
  publicSignals: string[];
  verified: boolean;
  input: number[];
  backend: string;
  seconds: { download: number; witness: number; prove: number; verify: number };
}

/** Picks the backend, presses Prove and waits for the page's result (or its error). */
export async function proveOnPage(page: Page, backend: 'wasm' | 'webgpu' | 'auto', timeoutMs = 300_000): Promise<PageResult> {
  await page.evaluate(() => { const w = window as unknown as Record<string, unknown>; delete w.zkonnxResult; delete w.zkonnxError; });
  await page.selectOption('#backend', backend);
  await page.click('#prove');
  await page.waitForFunction(() => { const w = window as unknown as Record<string, unknown>; return w.zkonnxResult || w.zkonnxError; }, undefined, { timeout: timeoutMs, polling: 250 });
  const err = await page.evaluate(() => (window as unknown as { zkonnxError?: string }).zkonnxError);
  if (err) throw new Error(`the page failed to prove: ${err}`);
  return page.evaluate(() => (window as unknown as { zkonnxResult: PageResult }).zkonnxResult);
}

/** Whether the page's browser has a WebGPU adapter, and its name. */
export function webgpuAdapter(page: Page): Promise<string | undefined> {
  return page.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info: { vendor: string; architecture: string } } | null> } }).gpu;
    const a = await gpu?.requestAdapter();
    return a ? `${a.info.vendor} ${a.info.architecture}`.trim() : undefined;
  });
}
