"""The `{name:id}` path convertor: a database id, 1 to 18 ASCII digits.

Starlette's `int` convertor takes any run of digits, and an id past SQLite's 64-bit
integers then fails deep in the driver (a 500). Eighteen digits always fit; longer ones
match no route, so the caller gets the same 404 as for any other unknown id.
Registered when the `web` package is imported, before any route is built.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10**18:
            raise ValueError(f"{value} is not an id")
        return str(value)


register_url_convertor("id", IdConvertor())
