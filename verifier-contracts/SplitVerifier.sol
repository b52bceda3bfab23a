// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// Accepts the proofs of a model split into chunk circuits (`zkonnx compile --split`): one
/// snarkjs Groth16 proof per chunk, each checked by that chunk's own verifier contract, and
/// chained by the link commitments: chunk k's `link_in_commit` public signal must equal chunk
/// k−1's `link_out_commit`. The model's inputs (or their commitments) are public signals of the
/// first chunk's proof and its outputs (or their commitments) of the last one's: a caller reads
/// them from the proofs it passed, at the positions settings.json (`split.chunks[k].publicSignals`)
/// names, once `verify` returned true. Deployed and tested by src/verifier/split.ts.
contract SplitVerifier {
    /// One chunk: its verifier, how many public signals its verifyProof takes, and where the
    /// link commitments sit among them (linkIn is unused for the first chunk, linkOut for the last).
    struct Chunk {
        address verifier;
        uint32 nPublic;
        uint32 linkIn;
        uint32 linkOut;
    }

    /// A proof as snarkjs's verifyProof takes it (`snarkjs zkey export soliditycalldata`).
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
        uint256[] pubSignals;
    }

    Chunk[] private chunks;
    /// verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n]) of each chunk: the selector names n.
    bytes4[] private selectors;

    error BadLayout(uint256 chunk);

    constructor(Chunk[] memory cs) {
        if (cs.length == 0) revert BadLayout(0);
        for (uint256 k = 0; k < cs.length; k++) {
            Chunk memory ch = cs[k];
            bool linked = (k == 0 || ch.linkIn < ch.nPublic) && (k + 1 == cs.length || ch.linkOut < ch.nPublic);
            if (ch.verifier.code.length == 0 || ch.nPublic == 0 || !linked) revert BadLayout(k);
            chunks.push(ch);
            selectors.push(bytes4(keccak256(abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", decimal(ch.nPublic), "])"))));
        }
    }

    function chunkCount() external view returns (uint256) {
        return chunks.length;
    }

    function chunk(uint256 k) external view returns (Chunk memory) {
        return chunks[k];
    }

    /// True only when there is one proof per chunk, every proof verifies against its chunk's
    /// verifier, and every link commitment a chunk received is the one the chunk before handed on.
    function verify(Proof[] calldata proofs) public view returns (bool) {
        if (proofs.length != chunks.length) return false;
        for (uint256 k = 0; k < proofs.length; k++) {
            Chunk memory ch = chunks[k];
            if (proofs[k].pubSignals.length != ch.nPublic) return false;
            if (k > 0 && proofs[k].pubSignals[ch.linkIn] != proofs[k - 1].pubSignals[chunks[k - 1].linkOut]) return false;
        }
        for (uint256 k = 0; k < proofs.length; k++) {
            if (!verifyChunk(k, proofs[k])) return false;
        }
        return true;
    }

    error InvalidSplitProof();

    /// Reverts with InvalidSplitProof unless verify(proofs): for callers that must not go on
    /// (and for gas estimates: a call that merely returns false could be estimated with too little gas).
    function check(Proof[] calldata proofs) external view {
        if (!verify(proofs)) revert InvalidSplitProof();
    }

    function verifyChunk(uint256 k, Proof calldata p) private view returns (bool) {
        // static arrays are ABI-encoded in place: selector, a, b, c, then the n signals
        bytes memory data = abi.encodePacked(selectors[k], p.a[0], p.a[1], p.b[0][0], p.b[0][1], p.b[1][0], p.b[1][1], p.c[0], p.c[1], p.pubSignals);
        (bool ok, bytes memory ret) = chunks[k].verifier.staticcall(data);
        return ok && ret.length == 32 && abi.decode(ret, (bool));
    }

    function decimal(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) len++;
        bytes memory s = new bytes(len);
        for (; v != 0; v /= 10) s[--len] = bytes1(uint8(48 + (v % 10)));
        return string(s);
    }
}
