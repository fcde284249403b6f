import mimetypes

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = _("Console")

    def ready(self) -> None:
        # With SERVE_STATIC the console serves static files with the type Python's mimetypes guesses
        # from the host's tables: text/javascript on Debian, the obsolete application/javascript in
        # Python 3.11's own table, text/plain on some Windows hosts, with which browsers refuse the
        # wall's ES modules. The standard type, whatever the host says:
        mimetypes.add_type("text/javascript", ".js")
