// Prove what the bundled MNIST model predicts for a digit, and verify the proof.
import { compile, setup, prove, verify, releaseCurves } from 'zkonnx';

const { buildDir } = await compile({
  model: 'models/mnist-mlp/model.onnx',
  calibration: 'models/mnist-mlp/calibration.json',
  outDir: process.env.BUILD_DIR ?? 'build/mnist-mlp',
});
await setup({ buildDir }); // local single-party ceremony: development only
const { outputs, publicSignals } = await prove({ buildDir, input: 'models/mnist-mlp/input.json' });
const logits = outputs[0].values;
console.log('predicted digit:', logits.indexOf(Math.max(...logits)));
console.log('public signals:', publicSignals.length);
console.log('verified:', await verify({ buildDir }));
await releaseCurves(); // stop snarkjs's worker threads so the process can exit
