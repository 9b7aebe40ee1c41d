"""RFC 6962 / RFC 9162 Merkle trees over stored complete subtrees: hashing, proofs, verification. Pure functions.

Hashing (RFC 6962 section 2.1): `leaf_hash = SHA-256(0x00 || leaf)`, `node_hash = SHA-256(0x01 || left || right)`,
the empty tree's root is `SHA-256()`; a tree of n > 1 leaves splits at k, the largest power of two below n.

Storage model. A *block* `(level, index)` is the complete subtree over leaves `[index * 2**level,
(index + 1) * 2**level)`. Its hash never changes once the tree has grown past it, so a log stores each block's hash
when it completes (`append` says which ones complete) and never rebuilds the tree. Any range `[start, end)` the
RFC's recursion visits splits into at most 2 log2(n) aligned blocks (`blocks`), and its hash is the right fold of
theirs (`fold`). So a root, an inclusion proof or a consistency proof is a list of ranges (`inclusion_ranges`,
`consistency_ranges`), answered from O(log n) stored blocks fetched in one read (`range_hashes`).

The *frontier* of a tree of size n is the hashes of `blocks(0, n)`, left to right: everything needed to append the
next leaf and to compute the current root, without reading anything else.

Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Block = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # [start, end) in leaf indices
BlockReader = Callable[[Sequence[Block]], dict[Block, bytes]]


class ProofError(ValueError):
    """A proof, a tree size or an index that does not verify or is out of range."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- blocks and ranges ------------------------------------------------------------------------------------------


def blocks(start: int, end: int) -> list[Block]:
    """[start, end) as maximal aligned complete subtrees, left to right."""
    result: list[Block] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        result.append((level, start >> level))
        start += 1 << level
    return result


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from the hashes of its blocks (left to right): each block is the left sibling of the
    subtree made of the blocks after it."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form PATH(index, D[0:size]) (RFC 9162 2.1.3.1), leaf end first."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose hashes form PROOF(first, D[0:second]) (RFC 9162 2.1.4.1), deepest first."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    ranges: list[Range] = []
    lo, hi, m = 0, second, first
    complete = True  # the SUBPROOF flag b: D[lo:lo+m] is the whole old tree, whose root the verifier knows
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    if not complete:
        ranges.append((lo, hi))
    return ranges[::-1]


def range_hashes(ranges: Sequence[Range], read: BlockReader) -> list[bytes]:
    """The hash of each range, from its stored blocks, fetched in one call of `read`."""
    wanted = [blocks(start, end) for start, end in ranges]
    found = read(sorted({block for group in wanted for block in group}))
    try:
        return [fold([found[block] for block in group]) for group in wanted]
    except KeyError as missing:
        raise LookupError(f"block {missing.args[0]} is not stored") from None


def root(size: int, read: BlockReader) -> bytes:
    return range_hashes([(0, size)], read)[0] if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, read: BlockReader) -> list[bytes]:
    return range_hashes(inclusion_ranges(index, size), read)


def consistency_proof(first: int, second: int, read: BlockReader) -> list[bytes]:
    return range_hashes(consistency_ranges(first, second), read)


# -- appending --------------------------------------------------------------------------------------------------


def append(frontier: Sequence[bytes], size: int, leaf: bytes) -> tuple[list[bytes], list[tuple[Block, bytes]]]:
    """Append one leaf to a tree of `size` leaves with that frontier. Returns the new frontier and every block
    completed by the leaf (the leaf itself first): these are what a store must save."""
    if len(frontier) != bin(size).count("1"):
        raise ValueError("the frontier does not match the tree size")
    stack = list(frontier)
    current = leaf_hash(leaf)
    level, index = 0, size
    completed = [((0, index), current)]
    remaining = size
    while remaining & 1:
        current = node_hash(stack.pop(), current)
        level, index, remaining = level + 1, index >> 1, remaining >> 1
        completed.append(((level, index), current))
    stack.append(current)
    return stack, completed


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    return fold(frontier)


def pack(hashes: Iterable[bytes]) -> bytes:
    return b"".join(hashes)


def unpack(data: bytes) -> list[bytes]:
    if len(data) % HASH_SIZE:
        raise ValueError("packed hashes must be a multiple of 32 bytes")
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


class MemoryTree:
    """A whole tree in memory, stored the way the database stores it (every completed block). For tests, tile
    exports and benchmarks that build large trees quickly."""

    def __init__(self) -> None:
        self.size = 0
        self.frontier: list[bytes] = []
        self.nodes: dict[Block, bytes] = {}

    def append(self, leaf: bytes) -> list[tuple[Block, bytes]]:
        self.frontier, completed = append(self.frontier, self.size, leaf)
        self.nodes.update(completed)
        self.size += 1
        return completed

    def read(self, wanted: Sequence[Block]) -> dict[Block, bytes]:
        return {block: self.nodes[block] for block in wanted if block in self.nodes}

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else size, self.read)


# -- verification (RFC 9162) ------------------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be a 32-byte hash")


def root_from_inclusion_proof(index: int, size: int, leaf_digest: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root a leaf hash and an inclusion proof lead to (raises ProofError when the proof has
    the wrong shape for that index and size)."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    _check_hash(leaf_digest, "the leaf hash")
    fn, sn = index, size - 1
    result = bytes(leaf_digest)
    for sibling in proof:
        _check_hash(sibling, "each proof hash")
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return result


def verify_inclusion(index: int, size: int, leaf_digest: bytes, proof: Sequence[bytes], expected_root: bytes) -> None:
    """Raises ProofError unless the leaf hash is at `index` of the tree of `size` with that root."""
    _check_hash(expected_root, "the root hash")
    if root_from_inclusion_proof(index, size, leaf_digest, proof) != expected_root:
        raise ProofError(f"the inclusion proof for index {index} does not lead to the root of size {size}")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 2.1.4.2: raises ProofError unless the tree of size `first` is a prefix of the tree of `second`."""
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    for item in proof:
        _check_hash(item, "each proof hash")
    if not 0 <= first <= second:
        raise ProofError(f"size {first} cannot precede size {second}")
    if first == second:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError(f"two different roots for the same size {first}")
        return
    if first == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, bytes(first_root))
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for item in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(item, fr)
            sr = node_hash(item, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, item)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != first_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {first}")
    if sr != second_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {second}")
