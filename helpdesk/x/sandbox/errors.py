"""X's error bodies (RFC 7807 "problem" JSON, as the v2 API sends them)."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND_TYPE = "https://api.twitter.com/2/problems/resource-not-found"
UNSUPPORTED_AUTH_TYPE = "https://api.twitter.com/2/problems/unsupported-authentication"

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
REPLY_NOT_ALLOWED_DETAIL = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)


class ApiError(Exception):
    """An error answer: raised anywhere while handling a request, sent as ``status`` + body."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> JSON:
    return {"title": title, "detail": detail, "type": kind, "status": status}


def unauthorized() -> ApiError:
    return ApiError(401, problem(401, "Unauthorized", "Unauthorized"))


def forbidden(detail: str) -> ApiError:
    return ApiError(403, problem(403, "Forbidden", detail))


def too_many_requests(headers: dict[str, str] | None = None) -> ApiError:
    return ApiError(429, problem(429, "Too Many Requests", "Too Many Requests"), headers)


def service_unavailable() -> ApiError:
    return ApiError(503, problem(503, "Service Unavailable", "Service Unavailable"))


def unsupported_authentication() -> ApiError:
    detail = (
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
    )
    return ApiError(403, problem(403, "Unsupported Authentication", detail, UNSUPPORTED_AUTH_TYPE))


def invalid_request(message: str, parameter: str | None = None, value: str = "") -> ApiError:
    error: JSON = {"message": message}
    if parameter is not None:
        error = {"parameters": {parameter: [value]}, "message": message}
    body = {
        "errors": [error],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST_TYPE,
        "status": 400,
    }
    return ApiError(400, body)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, problem(400, "Bad Request", detail))


def not_found(detail: str) -> ApiError:
    return ApiError(404, problem(404, "Not Found Error", detail, NOT_FOUND_TYPE))


def page_not_found() -> ApiError:
    return ApiError(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})


def oauth_error(description: str, error: str = "invalid_request") -> ApiError:
    return ApiError(400, {"error": error, "error_description": description})
