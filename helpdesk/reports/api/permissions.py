"""Who may read the reporting API: agency staff and admins of a brand, for that brand."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from helpdesk.reports.access import api_reader


class ReadsReports(BasePermission):
    message = "The reporting API is for the brand's agency staff and administrators."

    def has_permission(self, request: Request, view: Any) -> bool:
        # Readers only; what they may do is the views' (GET only: anything else is a 405).
        return api_reader(request.user) is not None
