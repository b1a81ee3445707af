"""Media matching on hashes only: PDQ hashes (`matching.pdq`) and the near-duplicate index (`matching.index`).

A domain package beside `etl` and `analytics`: it may import the kernel (`grace`) and the warehouse,
never the presentation layers. It handles hashes, never media.
"""

from matching.index import IndexFileError, Matches, MatchingError, PdqIndex
from matching.pdq import DEFAULT_RADIUS, PdqHashError, as_words, hamming, parse_hex, to_hex

__all__ = [
    "DEFAULT_RADIUS",
    "IndexFileError",
    "Matches",
    "MatchingError",
    "PdqHashError",
    "PdqIndex",
    "as_words",
    "hamming",
    "parse_hex",
    "to_hex",
]
