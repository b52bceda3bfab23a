// The page: pick a compiled model, draw or upload an input, see the prediction (the integer
// executor, the very integers the circuit computes), prove it with WebGPU or WebAssembly, verify
// it here, download proof.json and public.json.
import { quantGraphFromJson } from '../../ir/serialize.js';
import type { QuantGraph } from '../../ir/graph.js';
import { dequantize, execQuant, quantizeInputs } from '../../qexec/exec.js';
import { fetchJson } from './artifacts.js';
import { DigitPad } from './digit.js';
import type { CircuitVisibility } from '../../compiler/emit.js';
import { estimateMemory, memoryBudget, proveInPage, type PageBackend, type PageProof } from './prove.js';

export interface ModelView {
  id: string;
  inputs: { name: string; shape: number[]; size: number }[];
  outputs: { name: string; shape: number[] }[];
  constraints: number;
  visibility: CircuitVisibility;
  digit?: 28 | 14;
  bytes: { zkey: number };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (text: string, error = false) => {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
};
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

let models: ModelView[] = [];
let model: ModelView | undefined;
let qgraph: QuantGraph | undefined;
let uploaded: number[] | undefined;
let busy = false;
const pad = new DigitPad($('canvas'), () => { uploaded = undefined; predict(); });

/** The input the page would prove now, or undefined. */
function currentInput(): number[] | undefined {
  if (uploaded) return uploaded;
  if (model?.digit && !pad.empty) return pad.pixels(model.digit);
  return undefined;
}

function predict(): void {
  const x = currentInput();
  const bars = $('bars');
  bars.replaceChildren();
  $('prediction').textContent = '';
  ($('prove') as HTMLButtonElement).disabled = busy || !x || !qgraph;
  if (!x || !qgraph) return;
  try {
    const q = execQuant(qgraph, quantizeInputs(qgraph, [x]));
    const out = qgraph.outputs[0]!;
    const values = q.outputs[0]!.map((v) => dequantize(v, out.scale));
    const top = values.indexOf(Math.max(...values));
    $('prediction').textContent = values.length > 1 ? `→ ${top}` : `→ ${values[0]!.toFixed(4)}`;
    const lo = Math.min(...values, 0), hi = Math.max(...values);
    values.forEach((v, i) => {
      const bar = document.createElement('div');
      bar.className = i === top ? 'bar top' : 'bar';
      bar.style.width = `${(100 * (v - lo)) / (hi - lo || 1)}%`;
      bars.append(Object.assign(document.createElement('span'), { textContent: String(i) }), bar, Object.assign(document.createElement('span'), { textContent: v.toFixed(3) }));
    });
  } catch (e) {
    status((e as Error).message, true);
  }
}

async function selectModel(id: string): Promise<void> {
  model = models.find((m) => m.id === id);
  qgraph = undefined;
  $('result').hidden = true;
  if (!model) return;
  $('digit').hidden = !model.digit;
  $('model-info').textContent = `${model.constraints.toLocaleString()} constraints · zkey ${mib(model.bytes.zkey)}`;
  const text = await (await fetch(`models/${model.id}/qgraph.json`)).text();
  qgraph = quantGraphFromJson(text);
  const need = estimateMemory(model.bytes.zkey, model.constraints);
  const budget = memoryBudget();
  status(need > budget
    ? `${model.id} needs about ${mib(need)} to prove in a browser; this page allows ${mib(budget)}. Prove it with the CLI: zkonnx prove`
    : model.digit ? 'Draw a digit.' : 'Upload an input file.', need > budget);
  predict();
}

async function prove(): Promise<void> {
  const x = currentInput();
  if (!model || !qgraph || !x || busy) return;
  const need = estimateMemory(model.bytes.zkey, model.constraints);
  if (need > memoryBudget()) {
    status(`${model.id} needs about ${mib(need)} to prove in a browser; this page allows ${mib(memoryBudget())}. Prove it with the CLI: zkonnx prove`, true);
    return;
  }
  busy = true;
  ($('prove') as HTMLButtonElement).disabled = true;
  $('result').hidden = true;
  const bar = $<HTMLProgressElement>('progress');
  try {
    const result: PageProof = await proveInPage(model.id, qgraph, model.visibility, x, $<HTMLSelectElement>('backend').value as PageBackend, (text, fraction) => {
      status(text);
      if (fraction !== undefined) bar.value = fraction;
    });
    bar.value = 1;
    const v = $('verdict');
    v.textContent = result.verified
      ? `Verified ✓ — proved with ${result.backend} in ${result.seconds.prove.toFixed(2)} s (witness ${result.seconds.witness.toFixed(2)} s, verify ${result.seconds.verify.toFixed(2)} s)`
      : 'The proof did NOT verify';
    v.className = result.verified ? 'ok' : 'bad';
    const link = (id: string, data: unknown) => { ($(id) as HTMLAnchorElement).href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], { type: 'application/json' })); };
    link('dl-proof', result.proof);
    link('dl-public', result.publicSignals);
    $('result').hidden = false;
    status(`done: ${result.backend}`);
    // for scripts and tests driving the page
    (window as unknown as { zkonnxResult: PageProof }).zkonnxResult = result;
  } catch (e) {
    status(`error: ${(e as Error).message}`, true);
    (window as unknown as { zkonnxError: string }).zkonnxError = (e as Error).message;
  } finally {
    busy = false;
    predict();
  }
}

async function main(): Promise<void> {
  models = await fetchJson<ModelView[]>('api/models');
  const sel = $<HTMLSelectElement>('model');
  for (const m of models) sel.append(new Option(m.id, m.id));
  if (!models.length) status('No compiled and set-up models in the folder `zkonnx app` serves.', true);
  sel.addEventListener('change', () => void selectModel(sel.value));
  $('clear').addEventListener('click', () => { pad.clear(); predict(); });
  $('prove').addEventListener('click', () => void prove());
  $<HTMLInputElement>('input-file').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    try {
      const j = JSON.parse(await f.text()) as { input_data?: number[][] };
      if (!Array.isArray(j.input_data?.[0])) throw new Error('expected {"input_data": [[…]]}');
      uploaded = j.input_data[0]!.flat(Infinity as 1) as number[];
      status(`${f.name}: ${uploaded.length} values`);
      predict();
    } catch (err) {
      status(`${f.name}: ${(err as Error).message}`, true);
    }
  });
  const want = new URLSearchParams(location.search).get('model');
  const first = models.find((m) => m.id === want) ?? models[0];
  if (first) {
    sel.value = first.id;
    await selectModel(first.id);
  }
  document.body.dataset.ready = '1';
}

main().catch((e) => status(`error: ${(e as Error).message}`, true));
