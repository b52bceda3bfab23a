// The float reference (reference.ts) on a worker thread of its own, for `prove`: started with the
// proof, onnxruntime-web's start (its WebAssembly and the session, ~0.25 s of CPU) and its run
// overlap the witness and the proof instead of following them (a small model's `zkonnx prove`
// spent a quarter of its time there). One thread a process, kept for the model it last ran (its
// session stays warm for the next proof of that model), held on the event loop only while a run
// waits for it. The
// thread is this same module, run by Node from the built .js; where it cannot start (the sources
// run untranspiled, as in the tests) or reports anything but values, runReference runs on the
// calling thread as before, so a failing model fails there, with its own error.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { FixedInput, ValueInfo } from '../ir/graph.js';
import { runReference, warmReference } from './reference.js';

type Sample = readonly (ArrayLike<number> | readonly string[])[];
interface Job { id: number; inputs: ValueInfo[]; sample: Sample; outputs: ValueInfo[]; fixed: readonly FixedInput[] }
type Reply = { id: number; values?: Float64Array[] };

export interface ReferenceRun {
  /** runReference(model, …)'s values */
  values: Promise<Float64Array[]>;
  /** once values has settled: whether the thread answered (else runReference ran on the caller's thread) */
  readonly onThread: boolean;
}

/**
 * Whether this module is a file of its own, which a worker can run: inside a bundle (the GPU
 * pack's, a page's) import.meta.url is the bundle, whose top level is not this thread's.
 */
const standalone = /\/reference-thread\.js$/.test(import.meta.url);

/** The process's thread: its model, and the runs waiting for it (answered with undefined if it dies). */
let current: { model: string; worker?: Worker; dead: boolean; waiting: Map<number, (v?: Float64Array[]) => void> } | undefined;
let nextId = 0;

/** Starts the thread and its session for `modelPath` (or keeps the one running it) now; the inputs come with referenceRun. */
export function startReference(modelPath: string): void {
  if (current && current.model === modelPath && !current.dead) return;
  if (current) void current.worker?.terminate();
  const t: NonNullable<typeof current> = { model: modelPath, dead: false, waiting: new Map() };
  current = t;
  const die = () => {
    t.dead = true;
    for (const answer of t.waiting.values()) answer(undefined);
    t.waiting.clear();
  };
  if (!standalone) {
    die();
    return;
  }
  try {
    // the parent's flags, less --input-type (a worker given a file refuses it: `node --input-type=module -e`)
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const w = new Worker(new URL(import.meta.url), { workerData: { referenceModel: modelPath }, execArgv });
    t.worker = w;
    w.unref(); // held (ref) only while a run waits for it: the caller may have nothing else alive
    w.on('message', (m: Reply) => {
      t.waiting.get(m.id)?.(m.values);
      t.waiting.delete(m.id);
      if (t.waiting.size === 0) w.unref();
    });
    w.on('error', die);
    w.on('exit', die);
  } catch {
    die();
  }
}

/** runReference(modelPath, …) on the thread (started by startReference, or now). */
export function referenceRun(modelPath: string, inputs: ValueInfo[], sample: Sample, outputs: ValueInfo[], fixed: readonly FixedInput[] = []): ReferenceRun {
  startReference(modelPath);
  const t = current!;
  const here = () => runReference(modelPath, inputs, sample, outputs, fixed);
  const w = t.worker;
  if (t.dead || !w) return { onThread: false, values: here() };
  const id = nextId++;
  const job: Job = { id, inputs, sample, outputs, fixed };
  const answer = new Promise<Float64Array[] | undefined>((resolve) => {
    t.waiting.set(id, resolve);
    w.ref();
    w.postMessage(job);
  });
  let onThread = false;
  return {
    get onThread() { return onThread; },
    values: answer.then((values) => {
      onThread = values !== undefined;
      return values ?? here();
    }),
  };
}

// The thread: the session made at once, each job answered with its values or { values: undefined }.
if (!isMainThread && parentPort && (workerData as { referenceModel?: string } | null)?.referenceModel) {
  const model = (workerData as { referenceModel: string }).referenceModel;
  const port = parentPort;
  const warm = warmReference(model).catch(() => {}); // a failure shows in the run, here or on the caller's thread
  port.on('message', (job: Job) => {
    void warm
      .then(() => runReference(model, job.inputs, job.sample, job.outputs, job.fixed))
      .then((values) => port.postMessage({ id: job.id, values }, values.map((v) => v.buffer as ArrayBuffer)), () => port.postMessage({ id: job.id }));
  });
}
