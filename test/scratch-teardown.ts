// Removes the run's scratch folder (vitest.config.ts points TMPDIR there) once every test file
// has finished; ZKONNX_KEEP_TEST_SCRATCH=1 keeps it for a look at what a test wrote.
import { rmSync } from 'node:fs';

export default function setup(): () => void {
  return () => {
    const dir = process.env['ZKONNX_TEST_SCRATCH'];
    if (!dir || process.env['ZKONNX_KEEP_TEST_SCRATCH'] === '1') return;
    rmSync(dir, { recursive: true, force: true });
  };
}
