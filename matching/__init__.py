"""Media matching: hashes of media files and, as they arrive, the PDQ index and hash banks.

`hashing` runs at the agency, beside the media: it turns a folder of files into the `files`
part of a case-export delivery (MD5, SHA1, PDQ and its quality), so that only hashes leave.
A domain package beside `etl/` and `analytics/`: it imports only `grace`, `warehouse` and libraries.
"""
