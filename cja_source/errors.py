"""Typed errors. Every message is one line, names the cause and never carries a secret."""

from __future__ import annotations


class CJAError(Exception):
    """Base of every error the extractor raises on purpose; `exit_code` follows the contract."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigurationError(CJAError):
    """A setting is missing or invalid (exit 2)."""

    exit_code = 2


class AuthenticationError(CJAError):
    """IMS refused the credential, or the gateway refused the token after a renewal."""


class PermissionDeniedError(CJAError):
    """The gateway refused the request (403/400 gateway codes)."""


class ApiError(CJAError):
    """The CJA service answered with its ErrorStatus body (4xx other than auth)."""


class ServiceUnavailableError(CJAError):
    """5xx, 429, timeouts or connection errors that outlasted every retry."""


class MalformedResponseError(CJAError):
    """A 200 answer whose body is not the JSON the API documents, after retries."""


class PagingError(MalformedResponseError):
    """A paged listing that would never end: repeated pages, or more than the API's limits allow."""


class InvalidItemError(MalformedResponseError):
    """A listing item or backfill without the shape every row is keyed on."""


class EmptyListingError(CJAError):
    """The listing returned no connection: what a non-admin credential gets."""


class StoppedError(CJAError):
    """The run is being stopped (a signal arrived): the client sends no more requests."""


class ConcurrentRunError(CJAError):
    """Another run holds the pipeline lock."""
