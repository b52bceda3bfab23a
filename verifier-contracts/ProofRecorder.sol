// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// Why a per-circuit contract rather than one with a dynamic `uint[]`:
// snarkjs's verifier takes `uint[N] calldata`, so the recorder mirrors that exact ABI.
// Callers get the same typed signature as the verifier (a wrong signal count fails at ABI
// encoding, not deep in a low-level call), and the source stays plain Solidity with no
// hand-built calldata. zkonnx (src/verifier/onchain.ts) rewrites the single N_PUBLIC line
// below for each circuit; as shipped (N_PUBLIC = 1) the file compiles on its own.

uint256 constant N_PUBLIC = 1; // zkonnx:N_PUBLIC

/// The function snarkjs's Groth16 template generates (contract Groth16Verifier).
interface IGroth16Verifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[N_PUBLIC] calldata pubSignals
    ) external view returns (bool);
}

/// Verifies a Groth16 proof and records its public signals, or reverts.
/// Reverting (rather than returning false as the verifier does) is what makes gas
/// estimation honest: with too little gas the pairing precompile fails, the verifier
/// returns false, and this contract reverts, so eth_estimateGas keeps searching upward
/// instead of settling on the cheap "false" path.
contract ProofRecorder {
    /// The proof did not verify (bad proof, wrong signals, or a signal >= the field modulus).
    error InvalidProof();

    event ProofVerified(bytes32 indexed signalsHash, address indexed submitter, uint256 index);

    IGroth16Verifier public immutable verifier;

    /// keccak256(abi.encodePacked(pubSignals)) => verified at least once.
    mapping(bytes32 => bool) public verified;

    /// Number of successful verifyAndRecord calls.
    uint256 public count;

    constructor(address verifier_) {
        verifier = IGroth16Verifier(verifier_);
    }

    function verifyAndRecord(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[N_PUBLIC] calldata pubSignals
    ) external returns (bytes32 signalsHash) {
        if (!verifier.verifyProof(pA, pB, pC, pubSignals)) revert InvalidProof();
        signalsHash = keccak256(abi.encodePacked(pubSignals));
        verified[signalsHash] = true;
        emit ProofVerified(signalsHash, msg.sender, count);
        count += 1;
    }
}
