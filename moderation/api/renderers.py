"""The JSON renderer for big answers (the comment batch's verdicts): orjson writes them several times faster."""

from __future__ import annotations

import orjson
from rest_framework import renderers


class BatchJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, writing with orjson when it can.

    What orjson will not write the same way (an indented answer asked for in Accept, a str subclass
    such as DRF's ErrorDetail, a lone surrogate) goes to DRF's own renderer, so every answer reads alike.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is not None and self.get_indent(accepted_media_type, renderer_context or {}) is None:
            try:
                return orjson.dumps(data)
            except TypeError:
                pass
        return super().render(data, accepted_media_type, renderer_context)
