"""C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles): paths and contents of tiles and entry bundles.

- A tile at level L, index N holds up to 256 hashes; hash i is the Merkle tree hash of leaves
  `[(N*256 + i) * 256**L, (N*256 + i + 1) * 256**L)`: the stored block `(8 L, N*256 + i)` (see merkle.py).
- A full tile is 256 hashes (8192 bytes) at `tile/<L>/<N>`; the rightmost tile of a level in a tree of size s is
  partial when `floor(s / 256**L) mod 256` is not 0, at `tile/<L>/<N>.p/<W>` with W that width.
- Entry bundles at `tile/entries/<N>[.p/<W>]` are the level-0 tile's leaves, each as a big-endian uint16 length
  then the leaf bytes.
- N is written in 3-digit groups, all but the last prefixed `x`: 1234067 -> `x001/x234/067`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from .merkle import Block

TILE_WIDTH = 256
TILE_HEIGHT = 8


def index_path(n: int) -> str:
    if n < 0:
        raise ValueError("a tile index is not negative")
    groups = []
    while True:
        groups.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([f"x{g:03d}" for g in groups[:-1]] + [f"{groups[-1]:03d}"])


@dataclasses.dataclass(frozen=True)
class Tile:
    level: int
    index: int
    width: int

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    def _suffix(self) -> str:
        return f".p/{self.width}" if self.partial else ""

    def path(self) -> str:
        return f"tile/{self.level}/{index_path(self.index)}{self._suffix()}"

    def entries_path(self) -> str:
        """The entry bundle's path (level-0 tiles only)."""
        return f"tile/entries/{index_path(self.index)}{self._suffix()}"

    def blocks(self) -> list[Block]:
        first = self.index * TILE_WIDTH
        return [(TILE_HEIGHT * self.level, first + i) for i in range(self.width)]

    def leaf_range(self) -> tuple[int, int]:
        span = TILE_WIDTH**self.level
        start = self.index * TILE_WIDTH * span
        return start, start + self.width * span


def tiles_for_size(size: int) -> Iterator[Tile]:
    """Every tile a tree of `size` leaves is served as, level by level: full tiles, then the partial one."""
    level = 0
    while size >= TILE_WIDTH**level and size:
        count = size // TILE_WIDTH**level  # complete hashes at this level
        for index in range(count // TILE_WIDTH):
            yield Tile(level, index, TILE_WIDTH)
        if count % TILE_WIDTH:
            yield Tile(level, count // TILE_WIDTH, count % TILE_WIDTH)
        level += 1


def entry_bundle(leaves: Sequence[bytes]) -> bytes:
    out = bytearray()
    for leaf in leaves:
        if len(leaf) > 0xFFFF:
            raise ValueError("an entry bundle holds leaves of at most 65535 bytes")
        out += len(leaf).to_bytes(2, "big") + leaf
    return bytes(out)


def read_entry_bundle(data: bytes) -> list[bytes]:
    leaves, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("truncated entry bundle")
        length = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + length > len(data):
            raise ValueError("truncated entry bundle")
        leaves.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    return leaves
