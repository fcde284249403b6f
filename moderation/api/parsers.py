"""The REST API's one parser: JSON, nested at most text_input.MAX_JSON_DEPTH levels."""

from __future__ import annotations

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
        try:
            text_input.check_json(data, strings=False)
        except text_input.JSONRefused as exc:
            raise ParseError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
        return data
