"""The desk's core records: brands and their X accounts, stores, volunteers, customers,
conversations, questions, replies, and the append-only audit log; one module per part."""

from helpdesk.models.audit import AuditEvent, AuditEventQuerySet
from helpdesk.models.billing import PriceCategory, XApiCall
from helpdesk.models.brands import Brand, ListeningQuery, Store, XAccount, validate_time_zone
from helpdesk.models.notes import NOTE_MAX_LENGTH, TAG_MAX_LENGTH, QuestionNote, Tag
from helpdesk.models.people import (
    Enrolment,
    EnrolmentStatus,
    InvitationCode,
    Role,
    Volunteer,
    name_from,
)
from helpdesk.models.questions import Conversation, Customer, Question, Source
from helpdesk.models.replies import LIVE_REPLY_STATES, Reply, SavedReply

__all__ = [
    "LIVE_REPLY_STATES",
    "NOTE_MAX_LENGTH",
    "TAG_MAX_LENGTH",
    "AuditEvent",
    "AuditEventQuerySet",
    "Brand",
    "Conversation",
    "Customer",
    "Enrolment",
    "EnrolmentStatus",
    "InvitationCode",
    "ListeningQuery",
    "PriceCategory",
    "Question",
    "QuestionNote",
    "Reply",
    "Role",
    "SavedReply",
    "Source",
    "Store",
    "Tag",
    "Volunteer",
    "XAccount",
    "XApiCall",
    "name_from",
    "validate_time_zone",
]
