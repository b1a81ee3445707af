"""Media matching on hashes only: PDQ hashes (`matching.pdq`), the near-duplicate index (`matching.index`) and
agency-side hashing (`matching.hashing`, `grace hash`: a folder of files becomes the `files` part of a
case-export delivery — MD5, SHA1, PDQ and its quality — so that only hashes leave the agency).

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
