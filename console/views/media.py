"""Stored media (snapshots) served to staff only, never from a public directory."""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from accounts.roles import require_role
from console.file_responses import stored_file_response
from moderation.queries.payloads import SNAPSHOT_DIR

# Snapshots never change once stored; the browser may keep them, shared caches may not.
CACHE_CONTROL = "private, max-age=3600"


def _snapshot_file(path: str) -> Path:
    relative = PurePosixPath(path)
    if not path or relative.is_absolute() or any(part in {"", ".", ".."} for part in path.split("/")):
        raise Http404
    root = (Path(settings.MEDIA_ROOT) / SNAPSHOT_DIR).resolve()
    target = (root / relative).resolve()
    # resolve() follows symlinks too, so a link pointing out of the directory is refused as well.
    if not target.is_relative_to(root) or not target.is_file():
        raise Http404
    return target


@require_GET
@require_role()
def snapshot_image(request, path: str) -> FileResponse:
    """Serve one stored snapshot image to a member of staff."""
    target = _snapshot_file(path)
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return stored_file_response(
        target.open("rb"), content_type=content_type, filename=target.name, cache_control=CACHE_CONTROL
    )
