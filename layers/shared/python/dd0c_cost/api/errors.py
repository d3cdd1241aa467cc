"""The API's one error shape: raise ``ApiError`` anywhere in a route; the resolver turns it into
``{"error", "message"}`` with its status."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, detail: list[dict] | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.detail = status, error, message, detail or []
