"""Path converters of the API's URLs (registered on import)."""

from django.urls import register_converter


class IdConverter:
    """Ids in paths: 1..64 visible ASCII characters but "/" (every id paysvc issues or takes).

    Anything else (NUL, other controls, non-ASCII) is a 404 from the resolver; PostgreSQL could
    not even compare a NUL.
    """

    regex = "[!-.0-~]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")
