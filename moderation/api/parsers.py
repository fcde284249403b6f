"""The REST API's parsers: JSON, nested at most text_input.MAX_JSON_DEPTH levels."""

from __future__ import annotations

import io

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from moderation import text_input


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 (not 500) to a deeply nested document.

    A document nested past Python's recursion limit raises RecursionError inside the json module,
    which DRF does not catch; anything deeper than MAX_JSON_DEPTH is refused the same way. The text
    in it is the serializers' to check (each text field carries moderation/text_input.py's
    validator), so a refusal names its field.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON is nested deeper than {text_input.MAX_JSON_DEPTH} levels.") from None
        return checked(data)


def checked(data):
    """Return parsed JSON, or raise ParseError when it nests deeper than the limit."""
    try:
        text_input.check_json(data, strings=False)
    except text_input.JSONRefused as exc:
        raise ParseError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    return data


class BatchJSONParser(JSONParser):
    """The same parser for big bodies (the comment batch): orjson reads them several times faster.

    A body orjson refuses (not UTF-8, a lone surrogate, an integer past 64 bits, nesting past its
    own limit) is read again by the standard parser, so the two answer every body alike.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        body = stream.read() if stream is not None else b""
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            try:
                return checked(orjson.loads(body))
            except orjson.JSONDecodeError:
                pass
        return super().parse(io.BytesIO(body), media_type, parser_context)
