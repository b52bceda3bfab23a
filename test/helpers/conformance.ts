// Locates the external conformance models (../shared/conformance/ezkl); tests skip without them.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CONFORMANCE_DIR = resolve(process.env.ZKONNX_CONFORMANCE ?? join(__dirname, '..', '..', '..', 'shared', 'conformance', 'ezkl'));
export const hasConformance = existsSync(CONFORMANCE_DIR);
if (!hasConformance) console.warn(`conformance models not found at ${CONFORMANCE_DIR}: their tests are skipped`);

export const conformanceModel = (name: string) => join(CONFORMANCE_DIR, name, 'network.onnx');
export const conformanceInput = (name: string) => join(CONFORMANCE_DIR, name, 'input.json');
