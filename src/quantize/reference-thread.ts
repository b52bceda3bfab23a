// The float reference (reference.ts) on a worker thread of its own, for `prove`: started with the
// proof, onnxruntime-web's start (its WebAssembly and the session, ~0.25 s of CPU) and its run
// overlap the witness and the proof instead of following them (a small model's `zkonnx prove`
// spent a quarter of its time there). The thread is this same module, run by Node from the built
// .js; where it cannot start (the sources run untranspiled, as in the tests) or reports anything
// but values, runReference runs on the calling thread as before, so a failing model fails there,
// with its own error.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { FixedInput, ValueInfo } from '../ir/graph.js';
import { runReference, warmReference } from './reference.js';

type Sample = readonly (ArrayLike<number> | readonly string[])[];
interface Job { inputs: ValueInfo[]; sample: Sample; outputs: ValueInfo[]; fixed: readonly FixedInput[] }

export interface ReferenceThread {
  /** runReference(model, …) on the thread (the one call it takes) */
  run(inputs: ValueInfo[], sample: Sample, outputs: ValueInfo[], fixed?: readonly FixedInput[]): Promise<Float64Array[]>;
  /** ends the thread (it never keeps the process alive) */
  close(): void;
  /** after run: whether the thread answered (else runReference ran on the caller's thread) */
  readonly onThread: boolean;
}

/** Starts the thread and its session for `modelPath` now; the inputs come with run(). */
export function referenceThread(modelPath: string): ReferenceThread {
  let worker: Worker | undefined;
  let failed = false;
  try {
    worker = new Worker(new URL(import.meta.url), { workerData: { referenceModel: modelPath } });
    worker.unref();
    worker.on('error', () => { failed = true; });
  } catch {
    failed = true;
  }
  let onThread = false;
  const here = (job: Job) => runReference(modelPath, job.inputs, job.sample, job.outputs, job.fixed);
  return {
    get onThread() { return onThread; },
    run(inputs, sample, outputs, fixed = []) {
      const job: Job = { inputs, sample, outputs, fixed };
      if (!worker || failed) return here(job);
      const w = worker;
      return new Promise<Float64Array[] | undefined>((resolve) => {
        w.once('message', (m: { values?: Float64Array[] }) => resolve(m.values));
        w.once('error', () => resolve(undefined));
        w.once('exit', () => resolve(undefined));
        w.postMessage(job);
      }).then((values) => {
        onThread = values !== undefined;
        return values ?? here(job);
      });
    },
    close() {
      void worker?.terminate();
    },
  };
}

// The thread: the session is made at once, the job answered with the values or { values: undefined }.
if (!isMainThread && parentPort && (workerData as { referenceModel?: string } | null)?.referenceModel) {
  const model = (workerData as { referenceModel: string }).referenceModel;
  const port = parentPort;
  const warm = warmReference(model).catch(() => {}); // a failure shows in the run, here or on the caller's thread
  port.once('message', (job: Job) => {
    void warm
      .then(() => runReference(model, job.inputs, job.sample, job.outputs, job.fixed))
      .then((values) => port.postMessage({ values }, values.map((v) => v.buffer as ArrayBuffer)), () => port.postMessage({ values: undefined }));
  });
}
