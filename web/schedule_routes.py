"""(filled in by its owner)"""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
