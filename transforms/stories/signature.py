"""MinHash signatures of cleaned bodies, and their LSH band keys.

The hashing is datasketch's ``MinHash`` (scheme ``affine32``: a 32-bit hash
per shingle, 32-bit values, so a 128-value signature is 512 bytes). The
permutations are drawn once per ``Hasher`` from a fixed seed and shared by
every signature it makes, so signatures made by any worker in any run compare.
``SIGNATURE_VERSION`` names the scheme, seed, width and shingling; stored
signatures of another version are never compared with these.

Band keys are the LSH lookup terms: the signature cut into ``bands`` slices of
``rows`` values, each slice hashed to a short keyword. Two bodies share at
least one band key with probability ``1 - (1 - J**rows) ** bands`` for a
Jaccard similarity ``J``; the defaults (42 bands of 3 rows) make that 0.94 at
J = 0.4 and 0.996 at J = 0.5, while a pair at J = 0.1 shares one with
probability 0.04. Candidates are then checked by ``match``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

import numpy as np

from transforms.stories.text import DEFAULT_SHINGLE_WORDS, analyse, hash32, shingles

NUM_PERM = 128
SEED = 20240917
BANDS = 42
ROWS = 3
SIGNATURE_VERSION = f"mh-a32-{NUM_PERM}-{SEED}-w{DEFAULT_SHINGLE_WORDS}"


@dataclass(frozen=True)
class Signature:
    """What is kept of a body: its MinHash values, its shingle count, and its marks (hashed)."""

    values: np.ndarray = field(repr=False)  # uint32, NUM_PERM of them
    size: int  # distinct shingles
    numbers: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)  # sorted unique uint32 hashes
    names: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)

    @property
    def empty(self) -> bool:
        return self.size == 0

    def encode(self) -> dict[str, object]:
        """The stored form: base64 of the values and marks (little-endian uint32)."""
        return {"sig": _b64(self.values), "size": self.size, "numbers": _b64(self.numbers),
                "names": _b64(self.names)}

    @classmethod
    def decode(cls, stored: dict[str, object]) -> Signature:
        def ints(name: str) -> np.ndarray:
            return np.frombuffer(base64.b64decode(str(stored.get(name) or "")), dtype="<u4").astype(np.uint32)

        return cls(ints("sig"), int(stored["size"]), ints("numbers"), ints("names"))  # type: ignore[call-overload]


class Hasher:
    """Makes signatures; build one per worker (the permutations cost about a millisecond to draw)."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = SEED, shingle_words: int = DEFAULT_SHINGLE_WORDS,
                 bands: int = BANDS, rows: int = ROWS) -> None:
        if bands * rows > num_perm:
            raise ValueError(f"{bands} bands of {rows} rows need {bands * rows} values, the signature has {num_perm}")
        self.num_perm = num_perm
        self.seed = seed
        self.shingle_words = shingle_words
        self.bands = bands
        self.rows = rows
        # Imported here: datasketch's package imports scipy.integrate (about a second), which the command
        # line's other commands (search, es, kibana) and the store's readers do not need.
        from datasketch import MinHash

        self._minhash = MinHash
        self._permutations = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations

    def signature(self, text: str) -> Signature:
        body = analyse(text)
        sh = shingles(body.tokens, self.shingle_words)
        mh = self._minhash(num_perm=self.num_perm, seed=self.seed, permutations=self._permutations,
                           scheme="affine32")
        if sh:
            mh.update_batch(sh)
        return Signature(mh.hashvalues.astype(np.uint32), len(sh), np.asarray(hash32(body.numbers), dtype=np.uint32),
                         np.asarray(hash32(body.names), dtype=np.uint32))

    def band_keys(self, sig: Signature) -> list[str]:
        """One keyword per band: its number and a 64-bit hash of its values. None for an empty body."""
        if sig.empty:
            return []
        values = sig.values.astype("<u4")
        keys = []
        for b in range(self.bands):
            chunk = values[b * self.rows:(b + 1) * self.rows].tobytes()
            keys.append(f"{b:02d}{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
        return keys


_EMPTY = np.zeros(0, dtype=np.uint32)


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<u4").tobytes()).decode("ascii")
