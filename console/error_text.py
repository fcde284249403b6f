"""Domain errors in the page's language.

Actions and identity checks raise English sentences with a code: the REST API, logs and tests read
those. A page shows the translation instead, found here by sentence (or, for sentences that carry a
value, by pattern); a sentence not listed falls back to itself, so a new one shows up in English on a
Chinese page until it is added here (tests/console/test_error_text.py checks the known ones).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

SENTENCES = {
    # moderation/identity.py
    "the birth date in this 15-digit ID number is not a date": _(
        "The birth date in this 15-digit ID number is not a date."
    ),
    "a resident ID number has 18 characters (or 15 digits for an old card)": _(
        "A resident ID number has 18 characters (or 15 digits for an old card)."
    ),
    "a resident ID number is 17 digits and a digit or X": _("A resident ID number is 17 digits and then a digit or X."),
    "the birth date in this ID number is not a date": _("The birth date in this ID number is not a date."),
    "the check digit of this ID number is wrong": _("The check digit of this ID number is wrong."),
    "a document number is 5 to 40 letters and digits": _("A document number is 5 to 40 letters and digits."),
    "a phone number has digits only, with an optional leading + or 00": _(
        "A phone number has digits only, with an optional leading + or 00."
    ),
    "an international number has a country code and 8 to 15 digits": _(
        "An international number has a country code and 8 to 15 digits."
    ),
    "a Chinese mobile number has 11 digits": _("A Chinese mobile number has 11 digits."),
    "a Chinese mobile number starts with 13 to 19": _("A Chinese mobile number starts with 13 to 19."),
    "a device id is 4 to 128 letters, digits and _ - : .": _("A device id is 4 to 128 letters, digits and _ - : ."),
    "a platform account id is 1 to 64 letters, digits and _ - . : @": _(
        "A platform account id is 1 to 64 letters, digits and _ - . : @."
    ),
    # moderation/actions/credit.py: the policy
    "the lowest score must be below the highest": _("The lowest score must be below the highest."),
    "a policy needs at least one level": _("A policy needs at least one level."),
    "level codes must differ": _("Level codes must differ."),
    "each level needs its own threshold": _("Each level needs its own threshold."),
    "the lowest level must start at the lowest score": _("The lowest level must start at the lowest score."),
    "another policy version was published at the same time": _(
        "Another policy version was published at the same time; reload and try again."
    ),
    "a manual adjustment needs a reason": _("A manual adjustment needs a reason."),
}

PATTERNS = [
    (re.compile(r"level (?P<code>\S+): the threshold must lie on the scale\Z"),
     _("Level %(code)s: the threshold must lie on the scale.")),
    (re.compile(r"level (?P<code>\S+): unknown categories (?P<categories>.+)\Z"),
     _("Level %(code)s: unknown categories %(categories)s.")),
    (re.compile(r"level (?P<code>\S+): snapshot interval must be 1 to 86400 seconds\Z"),
     _("Level %(code)s: the snapshot interval must be 1 to 86400 seconds.")),
    (re.compile(r"level (?P<code>\S+): the audience cap cannot be negative\Z"),
     _("Level %(code)s: the audience cap cannot be negative.")),
    (re.compile(r"level (?P<code>\S+): patrol weight must be between -1000 and 1000\Z"),
     _("Level %(code)s: the patrol weight must be between -1000 and 1000.")),
]  # fmt: skip


def error_text(error: Exception | str) -> str:
    """Return the error's sentence in the request's language (the sentence itself when unknown)."""
    sentence = str(error)
    if sentence in SENTENCES:
        return str(SENTENCES[sentence])
    for pattern, text in PATTERNS:
        match = pattern.fullmatch(sentence)
        if match:
            return str(text) % match.groupdict()
    return sentence
