"""Stored files (snapshots, reporters' images, verification scans) as the console hands them to staff.

Never as a page: an image of a type the console accepts is shown inline with that type; anything
else is a download (``attachment``) of type ``application/octet-stream``. Every answer carries
``nosniff`` and a Content-Security-Policy that runs nothing, so a file that lies about its type
cannot become HTML or script in the console's origin.
"""

from __future__ import annotations

from django.http import FileResponse

# The image types shown inline; their bytes were checked when stored (report_intake, frame_grabber).
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
# An image opened on its own is a document the browser styles inline; nothing else may run or load.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def stored_file_response(handle, *, content_type: str, filename: str, cache_control: str) -> FileResponse:
    """Answer with a stored file: an accepted image inline, anything else as a download; never run."""
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        handle,
        content_type=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cache-Control"] = cache_control
    return response
