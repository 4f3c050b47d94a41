"""Request helpers of the workbench: query parsing, safe redirects, origin checks and error statuses."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request

from uavsim.errors import InputError, StoreError, UavSimError
from uavsim.web import views


def status_of(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    if isinstance(exc, StoreError) and "no flight" in str(exc):
        return 404, str(exc)
    if isinstance(exc, InputError | UavSimError):
        return 400, str(exc)
    return 500, "internal error"


def query(request: Request) -> views.FlightQuery:
    p = request.query_params
    try:
        page = int(p.get("page", "1"))
    except ValueError:
        page = 1
    return views.FlightQuery(
        source=p.get("source") or None, severity=p.get("severity") or None, aircraft_id=p.get("aircraft_id") or None,
        site=p.get("site") or None, mission_type=p.get("mission_type") or None, date_from=p.get("from") or None,
        date_to=p.get("to") or None, sort=p.get("sort", "start"), descending=p.get("order") == "desc", page=page)


def safe_next(nxt: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may be the page after login."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or urlsplit(nxt).netloc:
        return "/"
    return nxt


def same_origin(request: Request) -> None:
    """Login and logout forms carry no session yet: a cross-site POST is recognised by its Origin header."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "cross-site form refused")
