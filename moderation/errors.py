"""Domain errors: raised by actions and the rules they ask (permissions, policies)."""


class ModerationError(Exception):
    """A domain rule refused the action; views map it to 4xx, consumers to an error frame."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
