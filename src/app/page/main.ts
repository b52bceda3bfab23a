// The page: pick a compiled model, draw or upload an input, see the prediction (the integer
// executor, the very integers the circuit computes), prove it with WebGPU or WebAssembly, verify
// it here, download proof.json and public.json. Prove is enabled only while the current input is
// one the circuit accepts (the executor ran on it: right size, inside the compiled input range).
// Classifiers (server.ts isClassifier) show an argmax, "→ k"; other models show their outputs.
import { quantGraphFromJson } from '../../ir/serialize.js';
import type { QOutput, QuantGraph } from '../../ir/graph.js';
import { dequantize, execQuant, quantizeInputs } from '../../qexec/exec.js';
import { fetchJson } from './artifacts.js';
import { DigitPad } from './digit.js';
import type { CircuitVisibility } from '../../compiler/emit.js';
import { estimateMemory, memoryBudget, proveInPage, type PageBackend, type PageProof } from './prove.js';

export interface ModelView {
  id: string;
  inputs: { name: string; shape: number[]; size: number }[];
  outputs: { name: string; shape: number[] }[];
  /** One output of C ≥ 2 classes ([C], [1, C]): the page shows its argmax. */
  classifier: boolean;
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
let uploaded: { name: string; values: number[] } | undefined;
/** Why the latest input cannot be proved (a file that is not an input, say); cleared by the next input. */
let inputError: string | undefined;
/** Whether the status line shows a problem of the input (a valid input replaces it). */
let statusIsInputError = false;
let busy = false;
const pad = new DigitPad($('canvas'), () => { uploaded = undefined; inputError = undefined; predict(); });

/** The input the page would prove now, or undefined. */
function currentInput(): { source: string; values: number[] } | undefined {
  if (uploaded) return { source: uploaded.name, values: uploaded.values };
  if (model?.digit && !pad.empty) return { source: 'the drawing', values: pad.pixels(model.digit) };
  return undefined;
}

const inputProblem = (text: string) => {
  status(text, true);
  statusIsInputError = true;
};

/** Row-major index → its coordinates in a shape, as y[0,1,1]. */
const at = (i: number, shape: number[]) => {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return idx.join(',');
};

/** The largest number of output values listed under the prediction. */
const MAX_BARS = 64;

function predict(): void {
  const bars = $('bars');
  bars.replaceChildren();
  $('prediction').textContent = '';
  const button = $('prove') as HTMLButtonElement;
  button.disabled = true; // until the executor accepted the input
  if (inputError) return inputProblem(inputError);
  const x = currentInput();
  if (!x || !qgraph || !model) return;
  let q: ReturnType<typeof execQuant>;
  try {
    q = execQuant(qgraph, quantizeInputs(qgraph, [x.values]));
  } catch (e) {
    return inputProblem(`${x.source}: ${(e as Error).message}`);
  }
  button.disabled = busy;
  if (statusIsInputError) {
    statusIsInputError = false;
    status(`${x.source}: ${x.values.length} values; ready to prove`);
  }
  const outs = qgraph.outputs.map((o, k) => ({ o, values: q.outputs[k]!.map((v) => dequantize(v, o.scale)) }));
  $('prediction-label').textContent = model.classifier ? 'Prediction' : 'Output';
  let rows: { label: string; v: number }[];
  let top = -1;
  if (model.classifier) {
    const values = outs[0]!.values;
    top = values.indexOf(Math.max(...values));
    $('prediction').textContent = `→ ${top}`;
    rows = values.map((v, i) => ({ label: String(i), v }));
  } else {
    // not a classifier: no argmax, the output values themselves
    // an output of class labels (strings) shows each code's string
    const named = (o: QOutput, v: number) => (o.categories ? ` ${o.categories[v] ?? '?'}` : '');
    rows = outs.flatMap(({ o, values }) => values.map((v, i) => ({ label: `${o.name}[${at(i, o.shape)}]${named(o, v)}`, v })));
    const only = outs.length === 1 && rows.length === 1 ? outs[0]! : undefined;
    $('prediction').textContent = only ? (only.o.categories ? `→${named(only.o, only.values[0]!)}` : `= ${rows[0]!.v.toFixed(4)}`) : outs.map(({ o }) => `${o.name} [${o.shape}]`).join(', ');
  }
  const shown = rows.slice(0, MAX_BARS);
  const lo = Math.min(...shown.map((r) => r.v), 0), hi = Math.max(...shown.map((r) => r.v));
  shown.forEach(({ label, v }, i) => {
    const bar = document.createElement('div');
    bar.className = i === top ? 'bar top' : 'bar';
    bar.style.width = `${(100 * (v - lo)) / (hi - lo || 1)}%`;
    bars.append(Object.assign(document.createElement('span'), { textContent: label }), bar, Object.assign(document.createElement('span'), { textContent: v.toFixed(3) }));
  });
  if (rows.length > MAX_BARS) bars.append(Object.assign(document.createElement('span'), { textContent: `… ${rows.length - MAX_BARS} more` }));
}

async function selectModel(id: string): Promise<void> {
  model = models.find((m) => m.id === id);
  qgraph = undefined;
  // an uploaded input was for the model before
  uploaded = undefined;
  inputError = undefined;
  statusIsInputError = false;
  $<HTMLInputElement>('input-file').value = '';
  predict();
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
  const x = currentInput()?.values;
  if (!model || !qgraph || !x || busy || inputError) return;
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
  $('clear').addEventListener('click', () => {
    pad.clear();
    uploaded = undefined;
    inputError = undefined;
    $<HTMLInputElement>('input-file').value = '';
    predict();
  });
  $('prove').addEventListener('click', () => void prove());
  $<HTMLInputElement>('input-file').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    uploaded = undefined;
    inputError = undefined;
    try {
      let j: { input_data?: unknown[] };
      try {
        j = JSON.parse(await f.text()) as { input_data?: unknown[] };
      } catch (err) {
        throw new Error(`not JSON: ${(err as Error).message}`);
      }
      if (!Array.isArray(j?.input_data?.[0])) throw new Error('expected {"input_data": [[…]]}');
      const values = (j.input_data[0] as unknown[]).flat(Infinity as 1) as unknown[];
      const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
      if (bad >= 0) throw new Error(`input_data[0][${bad}] is ${JSON.stringify(values[bad])}, not a finite number`);
      uploaded = { name: f.name, values: values as number[] };
      statusIsInputError = false;
      status(`${f.name}: ${values.length} values`);
    } catch (err) {
      inputError = `${f.name}: ${(err as Error).message}`;
    }
    predict();
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
