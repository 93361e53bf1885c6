"""Who may use which part of the desk. Views get at the person's desk record only here.

Denied looks like not found where an object is involved; a page the role never sees answers
403.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from helpdesk.models import Role, Store, Volunteer

DESK_ROLES = frozenset({Role.VOLUNTEER, Role.SUPERVISOR, Role.ADMIN})
SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
READING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AGENCY})


def volunteer_for(user: User | AnonymousUser) -> Volunteer | None:
    """The person's desk record, or None (anonymous, or not part of any programme)."""
    if not user.is_authenticated or not user.is_active:
        return None
    return Volunteer.objects.select_related("brand", "store").filter(user_id=user.pk).first()


def require_role(request: HttpRequest, roles: frozenset[str]) -> Volunteer:
    """The requester's desk record if their role is one of ``roles``; else PermissionDenied."""
    volunteer = volunteer_for(request.user)
    if volunteer is None or volunteer.role not in roles:
        raise PermissionDenied(_("This page is not part of your role."))
    return volunteer


def supervises(supervisor: Volunteer, store: Store | None) -> bool:
    """Whether ``supervisor`` may act on people of ``store``: an admin of the brand may act
    anywhere in it; a supervisor on their own store, or anywhere when they have none."""
    if supervisor.role == Role.ADMIN:
        return store is None or store.brand_id == supervisor.brand_id
    if supervisor.role != Role.SUPERVISOR:
        return False
    if store is not None and store.brand_id != supervisor.brand_id:
        return False
    stores = supervised_stores(supervisor)
    return stores is None or store is None or store.pk in stores


def supervised_stores(supervisor: Volunteer) -> frozenset[int] | None:
    """The stores whose people, replies and claims ``supervisor`` acts on, by the brand's
    ``supervision_scope``; None for all of the brand's (and for things of no store). The one
    rule behind the people pages, review, moderation and the floor."""
    if supervisor.role == Role.ADMIN or supervisor.store_id is None:
        return None
    if supervisor.brand.supervision_scope == "brand":
        return None
    return frozenset({supervisor.store_id})


def in_supervised_stores(supervisor: Volunteer, field: str = "store") -> Q:
    """The filter of rows (a reply's ``store``, say) that ``supervisor`` acts on."""
    stores = supervised_stores(supervisor)
    if stores is None:
        return Q()
    return Q(**{f"{field}__in": stores}) | Q(**{f"{field}__isnull": True})


def supervisor_of(user: User, brand_id: int, *people: Volunteer | None) -> Volunteer | None:
    """The person's desk record if they supervise (or administer) brand ``brand_id`` and
    may act on each of ``people`` (those of the brand; None: nobody, nothing to check) by
    :func:`supervises`; else None. One rule for taking back, reassigning and escalating."""
    supervisor = volunteer_for(user)
    if (
        supervisor is None
        or supervisor.role not in SUPERVISING_ROLES
        or supervisor.brand_id != brand_id
    ):
        return None
    for person in people:
        if person is not None and (
            person.brand_id != brand_id or not supervises(supervisor, person.store)
        ):
            return None
    return supervisor
