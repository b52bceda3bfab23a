// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// zkonnx registry: models (a snarkjs Groth16 verifier + the weights commitment its proofs must
/// carry), inference proofs checked against them, and training proofs that link a dataset root
/// and initial weights to trained weights. See README.md, "On-chain registry".
///
/// What a success means:
///  - InferenceVerified(modelId, submitter, outputs): the model's verifier accepted a proof whose
///    public signals are all field elements, are exactly as many as the verifier takes, and carry
///    the registered weights commitment at weightsIndex; `outputs` are signals
///    [outputStart, outputStart + outputCount) of that proof.
///  - TrainingLinked(root, initialWeights, h1, h0, start, nextStart, steps, id): a registered
///    training verifier accepted a proof with public signals [root, h0, h1, start, ...], and h0 at
///    sample position `start` is a recorded state of the chain (root, initialWeights); the registry
///    records the state (h1, nextStart = start + samplesPerProof) in that chain.
///
/// Proof malleability and replays. Groth16 proofs are malleable: from one valid proof anyone can
/// compute other valid proofs (re-randomized A, B, C) of the same public signals, and anyone who
/// saw a proof can submit it again. None of this matters here, because the registry never keys
/// anything on the proof bytes. An inference submission stores nothing; a replayed or re-randomized
/// proof only emits again an event that states the very same fact (model, outputs). A training link
/// is keyed by its chain and its public signals: a re-randomized copy of a recorded link reaches the
/// same state and is rejected as AlreadyLinked, and it could only have recorded the same fact anyway.
/// Malleability of the public signals themselves (s and s + r are the same field element to the
/// pairing) is closed by rejecting every signal >= r (SignalOutOfField) before anything else; the
/// snarkjs verifier rejects them too, but the registry compares signals as integers (the weights
/// commitment, the chain keys), so it does not rely on that.
/// `submitter` is msg.sender, not the prover: a proof is a bearer statement. A consumer that needs
/// fresh or sender-bound proofs must put a nonce or address among the circuit's public inputs.
///
/// Training provenance: threat model. linkTraining is open to anyone, and a valid training proof is
/// cheap to make for whoever picks the data: one SGD step on a crafted dataset can land on any
/// weights, e.g. the all-zero initial weights, or published trained weights (keep the weights, move
/// the bias, x = 0). So nothing is keyed on a weights commitment alone, and no link can pre-empt,
/// redirect or block another:
///  - Links are recorded per chain, a chain being (dataset root, initial weights). A chain is a set
///    of states (weights, nextStart): the chain's initial weights at sample position 0, and every
///    h1 a recorded link reached, with the position where its samples end. Any number of chains may
///    reach the same weights; a link adds one state to one chain and changes nothing else.
///  - A link h0 -> h1 on root R, start s is accepted into chain (R, I) only if (h0, s) is a state
///    of that chain: s = 0 and h0 = I, or a recorded link of the chain ended at h0 with nextStart
///    s (NotInChain otherwise). The schedule is checked on-chain: a training verifier is registered
///    (by the owner only) with its samples per proof (steps · batch), a link ends at s + that, and a
///    chain therefore consumes samples 0, 1, 2, ... of R in order, each once, with no gap.
///  - A third party can add links to chain (R, I) only with valid training proofs, from I, on R's
///    own samples in schedule order: true statements about that chain (a branch next to the honest
///    one, never instead of it). A link of another chain, whatever weights it reaches, is invisible
///    to (R, I).
///  - isTrainedOn(modelId) holds iff the model's weights are a state of the chain named by the
///    model's registration: its dataset root and its initial weights, both chosen by the owner.
///    Naming the initial weights is what makes the claim mean something: from crafted initial
///    weights, one step on any data reaches any weights. Consumers judge the initial weights (zeros,
///    a seeded random init) and how much data was used: provenance() gives steps and nextStart.
///  - Limits: the registry trusts the owner's training verifiers and their samples per proof; links
///    of one chain may use different registered verifiers (each link's verifier is in its event and
///    its state). A duplicate of a recorded state reverts AlreadyLinked (whoever sent it first, the
///    state records the same fact). When R's samples are public, anyone can extend (R, I).
contract ZkonnxRegistry {
    /// BN254 scalar field modulus r: public signals are field elements in [0, r).
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Largest number of public signals a verifier may take (ids and indices pack into uint16).
    uint256 public constant MAX_PUBLIC = 0xffff;
    /// Public signals of a training proof, in order: [root, h0, h1, start] (more are allowed after).
    uint256 public constant TRAINING_SIGNALS = 4;
    /// Largest number of samples one training proof may consume (steps · batch).
    uint256 public constant MAX_SAMPLES_PER_PROOF = type(uint32).max;

    // ---- errors -------------------------------------------------------------------------------
    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error ZeroAddress();
    error NotAContract(address account);
    /// The verifier has no verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[nPublic]).
    error VerifierMismatch(address verifier, uint256 nPublic);
    error InvalidLayout(uint256 nPublic, uint256 weightsIndex, uint256 outputStart, uint256 outputCount);
    error ValueOutOfField(uint256 value);
    /// A model claims a dataset root without initial weights, or initial weights without a root.
    error PartialTrainingClaim(uint256 datasetRoot, uint256 initialWeights);
    error InvalidSamplesPerProof(uint256 samplesPerProof);
    error UnknownModel(uint256 modelId);
    error UnknownTrainingVerifier(uint256 trainingVerifierId);
    error WrongPublicCount(uint256 expected, uint256 got);
    error SignalOutOfField(uint256 index);
    error WrongModel(uint256 expected, uint256 got);
    error InvalidProof();
    /// (weights, start) is not a state of the chain (root, initialWeights): the link does not
    /// continue it (not its initial weights at sample 0, nor a recorded h1 whose link ended at start).
    error NotInChain(uint256 root, uint256 initialWeights, uint256 weights, uint256 start);
    /// The state (weights, nextStart) is already recorded in the chain (root, initialWeights).
    error AlreadyLinked(uint256 root, uint256 initialWeights, uint256 weights, uint256 nextStart);

    // ---- events -------------------------------------------------------------------------------
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed verifier,
        uint256 indexed weightsCommitment,
        uint256 nPublic,
        uint256 weightsIndex,
        uint256 datasetRoot,
        uint256 initialWeights,
        uint256 outputStart,
        uint256 outputCount,
        string metadataURI
    );
    event InferenceVerified(uint256 indexed modelId, address indexed submitter, uint256[] outputs);
    event TrainingVerifierRegistered(
        uint256 indexed trainingVerifierId, address indexed verifier, uint256 nPublic, uint256 samplesPerProof
    );
    /// The chain (root, initialWeights) reached the state (h1, nextStart), `steps` links from its
    /// initial weights, by a proof of h0 -> h1 on samples [start, nextStart) of root.
    event TrainingLinked(
        uint256 indexed root,
        uint256 indexed initialWeights,
        uint256 indexed h1,
        uint256 h0,
        uint256 start,
        uint256 nextStart,
        uint256 steps,
        uint256 trainingVerifierId
    );

    // ---- state --------------------------------------------------------------------------------
    struct Model {
        // one slot: 20 + 4 * 2 + 4 bytes
        address verifier;
        uint16 nPublic;
        uint16 weightsIndex;
        uint16 outputStart;
        uint16 outputCount;
        bytes4 selector; // verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[nPublic])
        uint256 weightsCommitment;
        uint256 datasetRoot; // 0: none claimed
        uint256 initialWeights; // the chain's initial weights the training claim names; 0 iff datasetRoot is 0
        string metadataURI;
    }

    struct TrainingVerifier {
        // one slot: 20 + 2 + 4 + 4 bytes
        address verifier;
        uint16 nPublic;
        bytes4 selector;
        uint32 samplesPerProof; // steps · batch: a link on [start, start + samplesPerProof)
    }

    /// A recorded state (weights, nextStart) of a chain (steps == 0: not recorded).
    struct ChainState {
        uint64 steps; // links from the chain's initial weights
        uint64 trainingVerifierId; // the verifier of the link that recorded it
    }

    /// The furthest recorded state of given weights in a chain (steps == 0: none).
    struct Reach {
        uint64 steps;
        uint192 nextStart; // samples consumed; at most 2^32 per link, so it never nears 2^192
    }

    address public owner;
    address public pendingOwner;
    /// Ids start at 1 (0 is never a model or a training verifier).
    uint256 public modelCount;
    uint256 public trainingVerifierCount;
    mapping(uint256 => Model) private _models;
    mapping(uint256 => TrainingVerifier) private _trainingVerifiers;
    /// stateKey(root, initialWeights, weights, nextStart) => the recorded state.
    mapping(bytes32 => ChainState) private _states;
    /// chainId(root, initialWeights) => weights => its furthest recorded state in that chain.
    mapping(bytes32 => mapping(uint256 => Reach)) private _reach;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    // ---- ownership (two steps; the owner's only power is registering) ------------------------
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    // ---- registration -------------------------------------------------------------------------
    function registerModel(
        address verifier,
        uint256 nPublic,
        uint256 weightsCommitment,
        uint256 weightsIndex,
        uint256 datasetRoot,
        uint256 initialWeights,
        uint256 outputStart,
        uint256 outputCount,
        string calldata metadataURI
    ) external onlyOwner returns (uint256 modelId) {
        if (
            nPublic == 0 || nPublic > MAX_PUBLIC || weightsIndex >= nPublic || outputCount > nPublic
                || outputStart > nPublic - outputCount
        ) revert InvalidLayout(nPublic, weightsIndex, outputStart, outputCount);
        if (weightsCommitment >= SNARK_SCALAR_FIELD) revert ValueOutOfField(weightsCommitment);
        if (datasetRoot >= SNARK_SCALAR_FIELD) revert ValueOutOfField(datasetRoot);
        if (initialWeights >= SNARK_SCALAR_FIELD) revert ValueOutOfField(initialWeights);
        if ((datasetRoot == 0) != (initialWeights == 0)) revert PartialTrainingClaim(datasetRoot, initialWeights);
        bytes4 selector = _checkVerifier(verifier, nPublic);

        modelId = ++modelCount;
        Model storage m = _models[modelId];
        m.verifier = verifier;
        m.nPublic = uint16(nPublic);
        m.weightsIndex = uint16(weightsIndex);
        m.outputStart = uint16(outputStart);
        m.outputCount = uint16(outputCount);
        m.selector = selector;
        m.weightsCommitment = weightsCommitment;
        m.datasetRoot = datasetRoot;
        m.initialWeights = initialWeights;
        m.metadataURI = metadataURI;
        emit ModelRegistered(
            modelId,
            verifier,
            weightsCommitment,
            nPublic,
            weightsIndex,
            datasetRoot,
            initialWeights,
            outputStart,
            outputCount,
            metadataURI
        );
    }

    /// A training verifier whose proofs' public signals start [root, h0, h1, start] and consume the
    /// samples [start, start + samplesPerProof) of root (samplesPerProof = steps · batch).
    function registerTrainingVerifier(address verifier, uint256 nPublic, uint256 samplesPerProof)
        external
        onlyOwner
        returns (uint256 trainingVerifierId)
    {
        if (nPublic < TRAINING_SIGNALS || nPublic > MAX_PUBLIC) revert InvalidLayout(nPublic, 0, 0, 0);
        if (samplesPerProof == 0 || samplesPerProof > MAX_SAMPLES_PER_PROOF) {
            revert InvalidSamplesPerProof(samplesPerProof);
        }
        bytes4 selector = _checkVerifier(verifier, nPublic);
        trainingVerifierId = ++trainingVerifierCount;
        _trainingVerifiers[trainingVerifierId] = TrainingVerifier({
            verifier: verifier, nPublic: uint16(nPublic), selector: selector, samplesPerProof: uint32(samplesPerProof)
        });
        emit TrainingVerifierRegistered(trainingVerifierId, verifier, nPublic, samplesPerProof);
    }

    // ---- inference ----------------------------------------------------------------------------
    function submitInference(
        uint256 modelId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata publicSignals
    ) external returns (uint256[] memory outputs) {
        Model storage m = _models[modelId];
        address verifier = m.verifier;
        if (verifier == address(0)) revert UnknownModel(modelId);
        _checkSignals(publicSignals, m.nPublic);
        uint256 expected = m.weightsCommitment;
        uint256 got = publicSignals[m.weightsIndex];
        if (got != expected) revert WrongModel(expected, got);
        if (!_verify(verifier, m.selector, a, b, c, publicSignals)) revert InvalidProof();

        uint256 start = m.outputStart;
        outputs = publicSignals[start:start + m.outputCount];
        emit InferenceVerified(modelId, msg.sender, outputs);
    }

    // ---- training links -----------------------------------------------------------------------
    /// Verifies a training proof h0 -> h1 (public signals [root, h0, h1, start, ...]) and records
    /// the state (h1, start + samplesPerProof) in the chain (root, initialWeights). The proof must
    /// continue that chain: start = 0 and h0 = initialWeights, or (h0, start) already recorded in it.
    function linkTraining(
        uint256 trainingVerifierId,
        uint256 initialWeights,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata publicSignals
    ) external {
        TrainingVerifier memory tv = _trainingVerifiers[trainingVerifierId];
        if (tv.verifier == address(0)) revert UnknownTrainingVerifier(trainingVerifierId);
        _checkSignals(publicSignals, tv.nPublic);
        uint64 steps = _nextState(initialWeights, publicSignals, tv.samplesPerProof);
        if (!_verify(tv.verifier, tv.selector, a, b, c, publicSignals)) revert InvalidProof();
        _record(steps, initialWeights, publicSignals, tv.samplesPerProof, trainingVerifierId);
    }

    /// The number of links from the initial weights of the state a link [root, h0, h1, start]
    /// would record in the chain (root, initialWeights). Reverts unless (h0, start) is a state of the
    /// chain and (h1, start + samplesPerProof) is not recorded yet.
    function _nextState(uint256 initialWeights, uint256[] calldata publicSignals, uint256 samplesPerProof)
        private
        view
        returns (uint64 steps)
    {
        uint256 root = publicSignals[0];
        uint256 h0 = publicSignals[1];
        uint256 start = publicSignals[3];
        if (start != 0 || h0 != initialWeights) {
            steps = _states[stateKey(root, initialWeights, h0, start)].steps;
            if (steps == 0) revert NotInChain(root, initialWeights, h0, start);
        }
        uint256 nextStart = start + samplesPerProof; // start < r < 2^254: no overflow
        uint256 h1 = publicSignals[2];
        if (_states[stateKey(root, initialWeights, h1, nextStart)].steps != 0) {
            revert AlreadyLinked(root, initialWeights, h1, nextStart);
        }
        return steps + 1;
    }

    /// Records the state (h1, start + samplesPerProof) of the chain (root, initialWeights).
    function _record(
        uint64 steps,
        uint256 initialWeights,
        uint256[] calldata publicSignals,
        uint256 samplesPerProof,
        uint256 trainingVerifierId
    ) private {
        uint256 root = publicSignals[0];
        uint256 h1 = publicSignals[2];
        uint256 nextStart = publicSignals[3] + samplesPerProof;
        _states[stateKey(root, initialWeights, h1, nextStart)] =
            ChainState({steps: steps, trainingVerifierId: uint64(trainingVerifierId)});
        {
            Reach storage r = _reach[chainId(root, initialWeights)][h1];
            if (nextStart > r.nextStart) {
                r.steps = steps;
                r.nextStart = uint192(nextStart);
            }
        }
        emit TrainingLinked(
            root, initialWeights, h1, publicSignals[1], nextStart - samplesPerProof, nextStart, steps, trainingVerifierId
        );
    }

    // ---- views --------------------------------------------------------------------------------
    function getModel(uint256 modelId) external view returns (Model memory) {
        Model memory m = _models[modelId];
        if (m.verifier == address(0)) revert UnknownModel(modelId);
        return m;
    }

    function getTrainingVerifier(uint256 trainingVerifierId) external view returns (TrainingVerifier memory) {
        TrainingVerifier memory tv = _trainingVerifiers[trainingVerifierId];
        if (tv.verifier == address(0)) revert UnknownTrainingVerifier(trainingVerifierId);
        return tv;
    }

    /// The id of the training chain (root, initialWeights).
    function chainId(uint256 root, uint256 initialWeights) public pure returns (bytes32) {
        return keccak256(abi.encode(root, initialWeights));
    }

    /// The key of the state (weights, nextStart) of the chain (root, initialWeights).
    function stateKey(uint256 root, uint256 initialWeights, uint256 weights, uint256 nextStart)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(root, initialWeights, weights, nextStart));
    }

    /// The recorded state (weights, nextStart) of the chain (root, initialWeights): the links from
    /// the initial weights and the verifier of the link that recorded it (steps == 0: not recorded;
    /// the chain's own start, (initialWeights, 0), is a state without being recorded).
    function stateOf(uint256 root, uint256 initialWeights, uint256 weights, uint256 nextStart)
        external
        view
        returns (ChainState memory)
    {
        return _states[stateKey(root, initialWeights, weights, nextStart)];
    }

    /// How far the chain (root, initialWeights) trained to `weights`: the furthest recorded state
    /// of those weights, as links from the initial weights and samples consumed (0, 0: none).
    function provenance(uint256 root, uint256 initialWeights, uint256 weights)
        external
        view
        returns (uint256 steps, uint256 nextStart)
    {
        Reach storage r = _reach[chainId(root, initialWeights)][weights];
        return (r.steps, r.nextStart);
    }

    /// Whether a recorded link of the chain (root, initialWeights) reached `weights`.
    function isTrained(uint256 root, uint256 initialWeights, uint256 weights) public view returns (bool) {
        return _reach[chainId(root, initialWeights)][weights].steps != 0;
    }

    /// True when the model claims a dataset root and initial weights, and the chain they name
    /// reached the model's weights commitment through recorded training proofs.
    function isTrainedOn(uint256 modelId) external view returns (bool) {
        Model storage m = _models[modelId];
        if (m.verifier == address(0)) revert UnknownModel(modelId);
        uint256 root = m.datasetRoot;
        if (root == 0) return false;
        return isTrained(root, m.initialWeights, m.weightsCommitment);
    }

    /// The 4-byte selector of snarkjs's verifyProof for `nPublic` public signals.
    function verifierSelector(uint256 nPublic) public pure returns (bytes4) {
        return bytes4(
            keccak256(abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", _decimal(nPublic), "])"))
        );
    }

    // ---- internals ----------------------------------------------------------------------------
    function _checkSignals(uint256[] calldata publicSignals, uint256 nPublic) private pure {
        if (publicSignals.length != nPublic) revert WrongPublicCount(nPublic, publicSignals.length);
        for (uint256 i = 0; i < publicSignals.length; ++i) {
            if (publicSignals[i] >= SNARK_SCALAR_FIELD) revert SignalOutOfField(i);
        }
    }

    /// Checks that `verifier` is a contract answering verifyProof for nPublic signals: a probe call
    /// whose first signal is r, which snarkjs's verifier rejects at once (returns false) and which a
    /// contract without that function reverts on.
    function _checkVerifier(address verifier, uint256 nPublic) private view returns (bytes4 selector) {
        if (verifier.code.length == 0) revert NotAContract(verifier);
        selector = verifierSelector(nPublic);
        uint256[] memory probe = new uint256[](nPublic);
        probe[0] = SNARK_SCALAR_FIELD;
        uint256[2] memory z2;
        uint256[2][2] memory z22;
        (bool ok, bytes memory ret) =
            verifier.staticcall(abi.encodePacked(selector, abi.encode(z2, z22, z2), probe));
        if (!ok || ret.length != 32) revert VerifierMismatch(verifier, nPublic);
    }

    /// Calls verifyProof(uint[2], uint[2][2], uint[2], uint[N]) on a snarkjs verifier. N is fixed per
    /// verifier, so the call is encoded by hand: the selector for N, then a, b, c and the N signals,
    /// all static, i.e. 32-byte words in order (abi.encodePacked of a uint256[] writes its words
    /// without a length, which is the encoding of uint256[N]). A revert, a short or non-canonical
    /// answer counts as false.
    function _verify(
        address verifier,
        bytes4 selector,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata publicSignals
    ) private view returns (bool) {
        (bool ok, bytes memory ret) =
            verifier.staticcall(abi.encodePacked(selector, abi.encode(a, b, c), publicSignals));
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }

    function _decimal(uint256 v) private pure returns (bytes memory out) {
        if (v == 0) return "0";
        uint256 len;
        for (uint256 t = v; t != 0; t /= 10) ++len;
        out = new bytes(len);
        for (; v != 0; v /= 10) out[--len] = bytes1(uint8(48 + (v % 10)));
    }
}
