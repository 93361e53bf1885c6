"""Template context for every page."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest

from helpdesk.permissions import volunteer_for


def desk_role(request: HttpRequest) -> dict[str, Callable[[], str]]:
    """``desk_role``: the signed-in person's role on the desk ("" without a desk record).

    Only for showing links; every page checks the role again on the server. Looked up when a
    template first reads it, once per request.
    """

    @cache
    def role() -> str:
        volunteer = volunteer_for(request.user)
        return volunteer.role if volunteer is not None else ""

    return {"desk_role": role}
