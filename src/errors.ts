/**
 * The one error class of zkonnx. `code` is stable (scripts may switch on it), the message is
 * short and names where the problem is (file, node, op, signal), `hint` says what to do.
 */
export type ZkonnxErrorCode =
  | 'ONNX_MALFORMED'
  | 'ONNX_UNSUPPORTED_OP'
  | 'ONNX_UNSUPPORTED_ATTR'
  | 'ONNX_SHAPE'
  | 'INPUT_INVALID'
  | 'INPUT_OUT_OF_RANGE'
  | 'QUANT_OVERFLOW'
  /** the quantized model misses the float model by more than the tolerance (compile --allow-inaccurate keeps it) */
  | 'QUANT_INACCURATE'
  | 'CIRCOM_FAILED'
  | 'CIRCUIT_MISMATCH'
  | 'CIRCUIT_TOO_LARGE'
  | 'WITNESS_MISMATCH'
  | 'SETUP_FAILED'
  /** circuit_final.zkey or verification_key.json differ from the files setup wrote (sha256 in settings.json) */
  | 'KEY_CHANGED'
  | 'PTAU_TOO_SMALL'
  | 'ARTIFACT_MISSING'
  | 'PROOF_INVALID'
  /** a prover thread failed or died (out of memory, say) */
  | 'PROVER_FAILED'
  | 'ONCHAIN_FAILED'
  | 'BAD_ARGUMENT'
  /** another zkonnx process is writing the same folder */
  | 'BUSY';

export interface ErrorDetails {
  file?: string;
  node?: string;
  op?: string;
  signal?: string;
  hint?: string;
  cause?: unknown;
  [key: string]: unknown;
}

export class ZkonnxError extends Error {
  override readonly name = 'ZkonnxError';
  readonly code: ZkonnxErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ZkonnxErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.details = details;
  }

  get hint(): string | undefined {
    return this.details.hint;
  }

  /** Message plus hint, as the CLI prints it. */
  describe(): string {
    return this.details.hint ? `${this.message}\n  hint: ${this.details.hint}` : this.message;
  }
}

/** Names an ONNX node the way every message does: "node /fc1/Gemm (Gemm)". */
export function nodeLabel(node: { name: string; op: string }): string {
  return `node ${node.name || '<unnamed>'} (${node.op})`;
}
