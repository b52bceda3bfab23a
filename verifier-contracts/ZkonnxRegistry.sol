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
///  - TrainingLinked(root, h0, h1, start, id): a registered training verifier accepted a proof with
///    public signals [root, h0, h1, start, ...]; the registry records h1 <- (h0, root, start).
///
/// Proof malleability and replays. Groth16 proofs are malleable: from one valid proof anyone can
/// compute other valid proofs (re-randomized A, B, C) of the same public signals, and anyone who
/// saw a proof can submit it again. None of this matters here, because the registry never keys
/// anything on the proof bytes. An inference submission stores nothing; a replayed or re-randomized
/// proof only emits again an event that states the very same fact (model, outputs). A training link
/// is keyed by its public signals (h1): a re-randomized copy of a recorded link carries the same
/// signals and is rejected as AlreadyLinked, and it could only have recorded the same link anyway.
/// Malleability of the public signals themselves (s and s + r are the same field element to the
/// pairing) is closed by rejecting every signal >= r (SignalOutOfField) before anything else; the
/// snarkjs verifier rejects them too, but the registry compares signals as integers (the weights
/// commitment, the link keys), so it does not rely on that.
/// `submitter` is msg.sender, not the prover: a proof is a bearer statement. A consumer that needs
/// fresh or sender-bound proofs must put a nonce or address among the circuit's public inputs.
///
/// Training links must be recorded in training order: a link h1 <- h0 is refused once h1 already
/// has a link (AlreadyLinked) or already is the starting point of another link (LinkOutOfOrder),
/// and a link whose h0 was itself trained on another dataset root is refused (RootMismatch). So
/// every recorded chain has one root and no cycle, and its initial weights and length are known
/// when the link is recorded: provenance() and isTrainedOn() are O(1) views. The first valid link
/// for a weights commitment wins; making one needs a proof about the weights behind h1, which only
/// those who know the weights (hashed visibility keeps them private) can produce.
contract ZkonnxRegistry {
    /// BN254 scalar field modulus r: public signals are field elements in [0, r).
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Largest number of public signals a verifier may take (ids and indices pack into uint16).
    uint256 public constant MAX_PUBLIC = 0xffff;
    /// Public signals of a training proof, in order: [root, h0, h1, start] (more are allowed after).
    uint256 public constant TRAINING_SIGNALS = 4;

    // ---- errors -------------------------------------------------------------------------------
    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error ZeroAddress();
    error NotAContract(address account);
    /// The verifier has no verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[nPublic]).
    error VerifierMismatch(address verifier, uint256 nPublic);
    error InvalidLayout(uint256 nPublic, uint256 weightsIndex, uint256 outputStart, uint256 outputCount);
    error ValueOutOfField(uint256 value);
    error UnknownModel(uint256 modelId);
    error UnknownTrainingVerifier(uint256 trainingVerifierId);
    error WrongPublicCount(uint256 expected, uint256 got);
    error SignalOutOfField(uint256 index);
    error WrongModel(uint256 expected, uint256 got);
    error InvalidProof();
    error SelfLink(uint256 weights);
    error AlreadyLinked(uint256 weights);
    error LinkOutOfOrder(uint256 weights);
    error RootMismatch(uint256 weights, uint256 expectedRoot, uint256 gotRoot);

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
        uint256 outputStart,
        uint256 outputCount,
        string metadataURI
    );
    event InferenceVerified(uint256 indexed modelId, address indexed submitter, uint256[] outputs);
    event TrainingVerifierRegistered(uint256 indexed trainingVerifierId, address indexed verifier, uint256 nPublic);
    event TrainingLinked(
        uint256 indexed root, uint256 indexed h0, uint256 indexed h1, uint256 start, uint256 trainingVerifierId
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
        string metadataURI;
    }

    struct TrainingVerifier {
        address verifier;
        uint16 nPublic;
        bytes4 selector;
    }

    /// h1 <- (parent = h0, root, start), plus the chain's initial weights and length (in links).
    struct Link {
        uint256 parent;
        uint256 root;
        uint256 start;
        uint256 initial;
        uint64 steps; // >= 1 for a recorded link; 0: no link
        uint64 trainingVerifierId;
    }

    address public owner;
    address public pendingOwner;
    /// Ids start at 1 (0 is never a model or a training verifier).
    uint256 public modelCount;
    uint256 public trainingVerifierCount;
    mapping(uint256 => Model) private _models;
    mapping(uint256 => TrainingVerifier) private _trainingVerifiers;
    mapping(uint256 => Link) private _links;
    /// Weights commitments that are the h0 of some recorded link.
    mapping(uint256 => bool) public hasChild;

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
        m.metadataURI = metadataURI;
        emit ModelRegistered(
            modelId, verifier, weightsCommitment, nPublic, weightsIndex, datasetRoot, outputStart, outputCount, metadataURI
        );
    }

    function registerTrainingVerifier(address verifier, uint256 nPublic)
        external
        onlyOwner
        returns (uint256 trainingVerifierId)
    {
        if (nPublic < TRAINING_SIGNALS || nPublic > MAX_PUBLIC) revert InvalidLayout(nPublic, 0, 0, 0);
        bytes4 selector = _checkVerifier(verifier, nPublic);
        trainingVerifierId = ++trainingVerifierCount;
        _trainingVerifiers[trainingVerifierId] =
            TrainingVerifier({verifier: verifier, nPublic: uint16(nPublic), selector: selector});
        emit TrainingVerifierRegistered(trainingVerifierId, verifier, nPublic);
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
    function linkTraining(
        uint256 trainingVerifierId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata publicSignals
    ) external {
        TrainingVerifier memory tv = _trainingVerifiers[trainingVerifierId];
        if (tv.verifier == address(0)) revert UnknownTrainingVerifier(trainingVerifierId);
        _checkSignals(publicSignals, tv.nPublic);
        _checkLink(publicSignals[0], publicSignals[1], publicSignals[2]);
        if (!_verify(tv.verifier, tv.selector, a, b, c, publicSignals)) revert InvalidProof();
        _recordLink(publicSignals[0], publicSignals[1], publicSignals[2], publicSignals[3], trainingVerifierId);
    }

    /// The order rules of the link h1 <- (h0, root): see the contract's comment.
    function _checkLink(uint256 root, uint256 h0, uint256 h1) private view {
        if (h0 == h1) revert SelfLink(h1);
        if (_links[h1].steps != 0) revert AlreadyLinked(h1);
        if (hasChild[h1]) revert LinkOutOfOrder(h1);
        Link storage parent = _links[h0];
        if (parent.steps != 0 && parent.root != root) revert RootMismatch(h0, parent.root, root);
    }

    function _recordLink(uint256 root, uint256 h0, uint256 h1, uint256 start, uint256 trainingVerifierId) private {
        Link storage parent = _links[h0];
        Link storage l = _links[h1];
        l.parent = h0;
        l.root = root;
        l.start = start;
        if (parent.steps != 0) {
            l.initial = parent.initial;
            l.steps = parent.steps + 1;
        } else {
            l.initial = h0;
            l.steps = 1;
        }
        l.trainingVerifierId = uint64(trainingVerifierId);
        if (!hasChild[h0]) hasChild[h0] = true;
        emit TrainingLinked(root, h0, h1, start, trainingVerifierId);
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

    /// The recorded link that produced `weights` (steps == 0: none).
    function linkOf(uint256 weights) external view returns (Link memory) {
        return _links[weights];
    }

    /// Where `weights` come from: the dataset root of their training chain, the chain's initial
    /// weights and its number of links. Weights with no link: (0, weights, 0).
    function provenance(uint256 weights) public view returns (uint256 root, uint256 initialWeights, uint256 steps) {
        Link storage l = _links[weights];
        if (l.steps == 0) return (0, weights, 0);
        return (l.root, l.initial, l.steps);
    }

    /// True when the model claims a dataset root and its weights commitment links back, through
    /// recorded training proofs, to initial weights under that root.
    function isTrainedOn(uint256 modelId) external view returns (bool) {
        Model storage m = _models[modelId];
        if (m.verifier == address(0)) revert UnknownModel(modelId);
        uint256 claimed = m.datasetRoot;
        if (claimed == 0) return false;
        Link storage l = _links[m.weightsCommitment];
        return l.steps != 0 && l.root == claimed;
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
