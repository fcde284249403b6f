"""The stream page's player: a live stream's HLS or HTTP-FLV, relayed from its node (the key stays here)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from asgiref.sync import sync_to_async

from accounts.roles import require_role
from moderation.mediaservers import MediaServerError
from moderation.mediaservers.watching import WatchFormat, fetch, flv_chunks, mirror_for
from moderation.models import Stream

logger = logging.getLogger(__name__)


def _live_mirror(stream_id: int):
    stream = get_object_or_404(Stream.objects.live().select_related("node"), pk=stream_id)
    mirror = mirror_for(stream)
    if mirror is None:
        raise Http404
    return mirror


@never_cache
@require_GET
@require_role()
def stream_watch(request, stream_id: int, name: str) -> HttpResponse:
    """Relay one file of a live stream's HLS (a playlist rewritten to point here) or its HTTP-FLV."""
    mirror = _live_mirror(stream_id)
    try:
        if mirror.format == WatchFormat.FLV:
            if name != mirror.entry:
                raise Http404
            chunks = flv_chunks(mirror)
            first = next(chunks, b"")  # the node's refusal is an error here, not a broken stream later
            response = StreamingHttpResponse(_relayed(first, chunks), content_type="video/x-flv")
        else:
            prefix = request.path[: len(request.path) - len(name)]
            watched = fetch(mirror, name, browser_prefix=prefix)
            if watched is None:
                raise Http404
            response = HttpResponse(watched.body, content_type=watched.content_type)
    except MediaServerError as exc:
        logger.info("watch: no answer from the node: %s", exc)
        return HttpResponse(status=502, content_type="text/plain")
    response["X-Content-Type-Options"] = "nosniff"
    return response


async def _relayed(first: bytes, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    # An async iterator: under ASGI, Django would read a synchronous one to its end first, and a
    # live stream has none. Each blocking read runs in a thread of its own.
    read = sync_to_async(next, thread_sensitive=False)
    try:
        if first:
            yield first
        while chunk := await read(chunks, b""):
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=False)()
