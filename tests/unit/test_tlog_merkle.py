"""RFC 6962 hashing, proofs and RFC 9162 verification (api/tlog/merkle.py).

Reference values: transparency-dev/merkle, testonly/constants.go (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1),
`LeafInputs`, `NodeHashes` and `RootHashes`, copied below. Every proof for trees of size 1-64 is checked against an
independent recomputation written straight from RFC 6962 section 2.1 (list slicing, recursion), not from the
module's block arithmetic.
"""

from __future__ import annotations

import hashlib

import pytest

from api.tlog import merkle

# transparency-dev/merkle testonly/constants.go: LeafInputs()
LEAF_INPUTS = [
    bytes.fromhex(""),
    bytes.fromhex("00"),
    bytes.fromhex("10"),
    bytes.fromhex("2021"),
    bytes.fromhex("3031"),
    bytes.fromhex("40414243"),
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
# RootHashes(): index = tree size
ROOT_HASHES = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# NodeHashes(): [level][index]
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]


# -- the independent recomputation: RFC 6962 section 2.1, literally ----------------------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = _k(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    return subproof(m, leaves, True)


LEAVES_64 = [f"leaf {i}".encode() for i in range(64)]


@pytest.fixture(scope="module")
def tree64():
    tree = merkle.MemoryTree()
    for leaf in LEAVES_64:
        tree.append(leaf)
    return tree


# -- reference vectors ------------------------------------------------------------------------------------------


def test_reference_roots_for_the_eight_standard_leaves():
    tree = merkle.MemoryTree()
    assert tree.root().hex() == ROOT_HASHES[0]
    for size, leaf in enumerate(LEAF_INPUTS, start=1):
        tree.append(leaf)
        assert tree.root().hex() == ROOT_HASHES[size]
        assert merkle.frontier_root(tree.frontier).hex() == ROOT_HASHES[size]
        for earlier in range(size + 1):
            assert tree.root(earlier).hex() == ROOT_HASHES[earlier]


def test_reference_node_hashes_are_the_stored_blocks():
    tree = merkle.MemoryTree()
    for leaf in LEAF_INPUTS:
        tree.append(leaf)
    expected = {(level, index): h for level, row in enumerate(NODE_HASHES) for index, h in enumerate(row)}
    assert {block: h.hex() for block, h in tree.nodes.items()} == expected


def test_independent_recomputation_agrees_with_the_reference_roots():
    for size in range(9):
        assert mth(LEAF_INPUTS[:size]).hex() == ROOT_HASHES[size]


# -- every proof for sizes 1..64 --------------------------------------------------------------------------------


def test_every_inclusion_proof_up_to_64(tree64):
    for size in range(1, 65):
        expected_root = mth(LEAVES_64[:size])
        assert tree64.root(size) == expected_root
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, tree64.read)
            assert proof == path(index, LEAVES_64[:size]), (index, size)
            merkle.verify_inclusion(index, size, merkle.leaf_hash(LEAVES_64[index]), proof, expected_root)


def test_every_consistency_proof_up_to_64(tree64):
    for second in range(1, 65):
        second_root = mth(LEAVES_64[:second])
        for first in range(1, second + 1):
            proof = merkle.consistency_proof(first, second, tree64.read)
            assert proof == consistency(first, LEAVES_64[:second]), (first, second)
            merkle.verify_consistency(first, second, mth(LEAVES_64[:first]), second_root, proof)


def test_a_tampered_inclusion_proof_or_leaf_is_rejected(tree64):
    size, root = 37, tree64.root(37)
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, tree64.read)
        good_leaf = merkle.leaf_hash(LEAVES_64[index])
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, merkle.leaf_hash(b"tampered"), proof, root)
        for position in range(len(proof)):
            bad = list(proof)
            bad[position] = bytes([bad[position][0] ^ 1]) + bad[position][1:]
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(index, size, good_leaf, bad, root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, good_leaf, proof[:-1], root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, good_leaf, proof + [root], root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion((index + 1) % size, size, good_leaf, proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(size, size, merkle.leaf_hash(LEAVES_64[0]), [], root)


def test_a_tampered_consistency_proof_or_root_is_rejected(tree64):
    for first, second in [(1, 2), (3, 7), (4, 8), (6, 64), (31, 33), (32, 64)]:
        proof = merkle.consistency_proof(first, second, tree64.read)
        first_root, second_root = tree64.root(first), tree64.root(second)
        for position in range(len(proof)):
            bad = list(proof)
            bad[position] = bytes(32)
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(first, second, first_root, second_root, bad)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(
                first, second, tree64.root(first - 1) if first > 1 else bytes(32), second_root, proof
            )
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(first, second, first_root, merkle.leaf_hash(b"fork"), proof)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(first, second, first_root, second_root, proof[:-1])
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(first, second, first_root, second_root, [])


def test_equal_sizes_need_equal_roots_and_an_empty_proof(tree64):
    merkle.verify_consistency(5, 5, tree64.root(5), tree64.root(5), [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(5, 5, tree64.root(5), tree64.root(6), [])


def test_out_of_range_requests_are_refused(tree64):
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_ranges(3, 3)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(0, 3)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(4, 3)
    with pytest.raises(LookupError):
        merkle.inclusion_proof(0, 65, tree64.read)  # past the stored tree


# -- storage arithmetic -----------------------------------------------------------------------------------------


def test_blocks_cover_a_range_with_aligned_complete_subtrees():
    for start in range(0, 70):
        for end in range(start, 70):
            covered = []
            for level, index in merkle.blocks(start, end):
                first = index << level
                assert first % (1 << level) == 0
                covered.extend(range(first, first + (1 << level)))
            assert covered == list(range(start, end))


def test_proofs_read_logarithmically_many_blocks():
    size = 1_000_003
    for index in (0, 1, 500_000, size - 2, size - 1):
        wanted = {b for r in merkle.inclusion_ranges(index, size) for b in merkle.blocks(*r)}
        assert len(wanted) <= 2 * size.bit_length()
    for first in (1, 2, 3, 777_777, size - 1):
        wanted = {b for r in merkle.consistency_ranges(first, size) for b in merkle.blocks(*r)}
        assert len(wanted) <= 2 * size.bit_length()


def test_append_completes_exactly_the_new_blocks():
    tree = merkle.MemoryTree()
    for index in range(64):
        completed = tree.append(LEAVES_64[index])
        trailing_ones = (index ^ (index + 1)).bit_length() - 1
        assert [block for block, _ in completed] == [(level, index >> level) for level in range(trailing_ones + 1)]
    assert len(tree.nodes) == 127
    with pytest.raises(ValueError):
        merkle.append(tree.frontier, 63, b"x")


def test_pack_and_unpack_round_trip():
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(5)]
    assert merkle.unpack(merkle.pack(hashes)) == hashes
    with pytest.raises(ValueError):
        merkle.unpack(b"\x00" * 33)
