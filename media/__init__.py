"""Storing and serving files; framework-free except `http` (the Starlette routes).

storage     the Storage interface and the local-disk backend (aiofiles, atomic renames)
s3          the S3-compatible backend (aiobotocore: multipart uploads, ranged reads)
migrate     copying a local library into the bucket (`python -m cms media-migrate`)
staging     receiving one upload into a temporary file, counted and hashed
faults      storage faults (full disk, unwritable root) and the start-up check
filetypes   what a file is, from its bytes and structure (the allowlist)
images      pixel limits, EXIF orientation, re-encoding without metadata, BlurHash
renditions  bounded sizes, names, and making resized copies on demand
library     upload / update / delete of assets, shared by both upload routes
form        streaming multipart/form-data reader of POST /media
requests    what an upload request must carry (CSRF header, size)
access      which stored bytes a caller may fetch (the visibility rule)
service     the per-process storage and rendition maker for a configuration, their
            start (stale uploads swept), readiness check and close
http        POST /media and GET /media/... (Starlette)
"""
