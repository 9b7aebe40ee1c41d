"""C2SP tlog-tiles layout (api/tlog/tiles.py), with the examples of the specification (C2SP/C2SP tlog-tiles.md)."""

from __future__ import annotations

import pytest

from api.tlog import merkle, tiles


def test_index_paths_follow_the_specification():
    assert tiles.index_path(1234067) == "x001/x234/067"
    assert tiles.index_path(0) == "000"
    assert tiles.index_path(999) == "999"
    assert tiles.index_path(1000) == "x001/000"


def _describe(size):
    return [(t.level, t.width) for t in tiles.tiles_for_size(size)]


def test_tiles_for_the_specification_examples():
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of width 112,
    # one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1"
    described = _describe(70_000)
    assert described == [(0, 256)] * 273 + [(0, 112), (1, 256), (1, 17), (2, 1)]
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
    assert _describe(256) == [(0, 256), (1, 1)]
    assert _describe(0) == []
    assert tiles.Tile(0, 273, 112).path() == "tile/0/273.p/112"
    assert tiles.Tile(1, 0, 256).path() == "tile/1/000"
    assert tiles.Tile(0, 1234067, 256).entries_path() == "tile/entries/x001/x234/067"


def test_tile_hashes_are_subtree_hashes():
    tree = merkle.MemoryTree()
    leaves = [f"entry {i}".encode() for i in range(600)]
    for leaf in leaves:
        tree.append(leaf)
    for tile in tiles.tiles_for_size(600):
        hashes = [tree.nodes[block] for block in tile.blocks()]
        start, end = tile.leaf_range()
        span = 256**tile.level
        assert end <= 600
        for i, value in enumerate(hashes):
            assert value == merkle.root(span, lambda want, off=start + i * span: _shifted(tree, want, off))


def _shifted(tree, wanted, offset):
    # the hash of leaves [offset, offset + span) computed as the root of a separate tree of those leaves
    sub = merkle.MemoryTree()
    span = max((1 << level) * (index + 1) for level, index in wanted)
    for i in range(span):
        sub.append(f"entry {offset + i}".encode())
    return sub.read(wanted)


def test_entry_bundles_round_trip_and_reject_truncation():
    leaves = [b"", b"a", b"x" * 300]
    bundle = tiles.entry_bundle(leaves)
    assert bundle[:2] == b"\x00\x00" and bundle[2:4] == b"\x00\x01"
    assert tiles.read_entry_bundle(bundle) == leaves
    with pytest.raises(ValueError):
        tiles.read_entry_bundle(bundle[:-1])
    with pytest.raises(ValueError):
        tiles.entry_bundle([b"x" * 70_000])
