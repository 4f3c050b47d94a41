"""The Starlette application of ``uavsim serve``: routes only; the work is in views, flight, plots, auth, upload.

- Reading needs no login from a loopback address; from elsewhere it needs a session.
- Every write needs a session of the fitting role (:data:`uavsim.web.auth.PERMISSIONS`) and the session's CSRF
  token in the form: no session is 401, a missing or wrong token 403, a wrong role 403.
- Each request opens its own connection to the store (SQLite in WAL mode), so a concurrent ``uavsim ingest``
  never blocks a page and a page never sees half a file.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from uavsim.errors import UavSimError
from uavsim.records import OUTCOMES, SEVERITIES, _jsonable
from uavsim.store import Store
from uavsim.web import auth, http, plots, views
from uavsim.web.flight import flight_detail
from uavsim.web.reviews import record_review
from uavsim.web.upload import IngestOptions, ingest_uploads

log = logging.getLogger(__name__)

SESSION_COOKIE = "uavsim_session"
LOGIN_CSRF_COOKIE = "uavsim_login_csrf"
REPORT_LANGS = ("vi", "en")
REPORT_FORMATS = {"html": "text/html", "pdf": "application/pdf"}


@dataclass
class WebConfig:
    """What ``uavsim serve`` was started with."""

    db: Path
    dem: str | None = None
    use_terrain: bool = True
    stats: views.StatsOptions = field(default_factory=views.StatsOptions)
    policy: auth.AuthPolicy = field(default_factory=auth.AuthPolicy)
    ingest: IngestOptions = field(default_factory=IngestOptions)


def static_files() -> dict[str, tuple[Path, str]]:
    """The only files the server sends: a fixed table, so no request path ever names a file."""
    import plotly

    here = Path(__file__).parent / "static"
    return {
        "plotly.min.js": (Path(plotly.__file__).parent / "package_data" / "plotly.min.js", "text/javascript"),
        "app.css": (here / "app.css", "text/css"),
        "app.js": (here / "app.js", "text/javascript"),
    }


class Workbench:
    """Request handlers bound to one store and configuration (no module state)."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.env = Environment(loader=PackageLoader("uavsim.web", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.filters["pct"] = lambda x, d=2: "n/a" if x is None else f"{100.0 * x:.{d}f} %"
        self.env.filters["q"] = lambda s: quote(str(s), safe="")
        self._terrain: Any = None
        self.static_files = static_files()

    # -- plumbing -----------------------------------------------------------------------------------------
    def store(self) -> Store:
        return Store(self.config.db)

    def terrain(self) -> Any:
        if self._terrain is None and self.config.use_terrain:
            from uavsim.terrain import open_dem

            self._terrain = open_dem(self.config.dem)
        return self._terrain

    def session(self, request: Request, store: Store) -> auth.Session | None:
        return auth.session_of(store, request.cookies.get(SESSION_COOKIE))

    def page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(request_path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    def read_access(self, request: Request, store: Store) -> auth.Session | None:
        """The viewer's session; refuses a reader from another host who is not logged in."""
        session = self.session(request, store)
        if session is None and not auth.is_loopback(request.client.host if request.client else None):
            raise HTTPException(401, "log in to read this workbench from another host")
        return session

    def write_access(self, request: Request, store: Store, action: str, form: Any) -> auth.Session:
        session = self.session(request, store)
        if session is None:
            raise HTTPException(401, "log in first")
        if not auth.csrf_ok(session, form.get("csrf_token") if form is not None else None):
            raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
        if not session.may(action):
            raise HTTPException(403, f"{session.user} ({session.role}) may not {action}; "
                                     f"needs {' or '.join(auth.PERMISSIONS[action])}")
        return session

    # -- pages ----------------------------------------------------------------------------------------------
    async def dashboard(self, request: Request) -> Response:
        def work() -> tuple[auth.Session | None, dict[str, Any]]:
            with self.store() as store:
                session = self.read_access(request, store)
                return session, views.dashboard(store, self.config.stats)

        session, model = await run_in_threadpool(work)
        figures = {} if model["empty"] else plots.dashboard_figures(model)
        return self.page(request, "dashboard.html", m=model, figures=figures, session=session)

    async def flights(self, request: Request) -> Response:
        q = http.query(request)

        def work() -> tuple[auth.Session | None, dict[str, Any]]:
            with self.store() as store:
                return self.read_access(request, store), views.flights_page(store, q)

        session, model = await run_in_threadpool(work)
        return self.page(request, "flights.html", m=model, q=q, session=session,
                         sorts=list(views.SORT_KEYS), severities=SEVERITIES)

    async def flight(self, request: Request) -> Response:
        flight_id = request.path_params["flight_id"]

        def work() -> tuple[auth.Session | None, dict[str, Any] | None]:
            with self.store() as store:
                return self.read_access(request, store), flight_detail(store, flight_id, self.terrain())

        session, detail = await run_in_threadpool(work)
        if detail is None:
            raise HTTPException(404, f"no flight {flight_id!r} in this store")
        return self.page(request, "flight.html", d=detail, figures=plots.flight_figures(detail), session=session,
                         severities=SEVERITIES, outcomes=OUTCOMES, may_review=bool(session and session.may("review")))

    async def review(self, request: Request) -> Response:
        flight_id = request.path_params["flight_id"]
        form = await request.form()

        def work() -> None:
            with self.store() as store:
                session = self.write_access(request, store, "review", form)
                if store.flight(flight_id, with_telemetry=False) is None:
                    raise HTTPException(404, f"no flight {flight_id!r} in this store")
                record_review(store, flight_id, str(form.get("severity") or ""), str(form.get("reason") or ""),
                              session.user, str(form.get("outcome") or "") or None)

        await run_in_threadpool(work)
        return RedirectResponse(f"/flights/{quote(flight_id, safe='')}#reviews", status_code=303)

    # -- login ----------------------------------------------------------------------------------------------
    async def login_form(self, request: Request) -> Response:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        resp = self.page(request, "login.html", next=http.safe_next(request.query_params.get("next")), error=None,
                         session=None, login_csrf=token)
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
        return resp

    async def login(self, request: Request) -> Response:
        """Form fields ``username`` and ``password`` (the contract). The login form also carries a token
        bound to a cookie: when a token is sent it must match (403), and a cross-site Origin is refused."""
        http.same_origin(request)
        form = await request.form()
        sent = form.get("csrf_token")
        if sent is not None and not hmac.compare_digest(str(sent), request.cookies.get(LOGIN_CSRF_COOKIE) or "\0"):
            raise HTTPException(403, "wrong login form token; reload the login page")
        name, password = str(form.get("username") or ""), str(form.get("password") or "")
        nxt = http.safe_next(str(form.get("next") or ""))
        client = request.client.host if request.client else "unknown"

        def work() -> tuple[str, auth.Session] | str:
            with self.store() as store:
                if auth.throttled(store, name, client, self.config.policy):
                    return "throttled"
                return auth.login(store, name, password, client, self.config.policy) or "wrong"

        result = await run_in_threadpool(work)
        if isinstance(result, str):
            status, msg = (429, "Too many failed logins: wait a few minutes.") if result == "throttled" else (
                401, "Wrong user name or password.")
            return self.page(request, "login.html", status=status, next=nxt, error=msg, session=None,
                             login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE) or "")
        token, session = result
        if "application/json" in request.headers.get("accept", ""):
            resp: Response = JSONResponse({"user": session.user, "role": session.role,
                                           "csrf_token": session.csrf_token, "expires_unix": session.expires_unix})
        else:
            resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(SESSION_COOKIE, token, max_age=max(1, int(self.config.policy.session_ttl_s)), httponly=True,
                        samesite="strict", path="/")
        return resp

    async def logout(self, request: Request) -> Response:
        http.same_origin(request)
        form = await request.form()

        def work() -> None:
            with self.store() as store:
                session = self.session(request, store)
                if session is not None and not auth.csrf_ok(session, form.get("csrf_token")):
                    raise HTTPException(403, "missing or wrong CSRF token")
                auth.logout(store, request.cookies.get(SESSION_COOKIE))

        await run_in_threadpool(work)
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # -- upload and report ----------------------------------------------------------------------------------
    async def upload_form(self, request: Request) -> Response:
        def work() -> auth.Session | None:
            with self.store() as store:
                return self.read_access(request, store)

        session = await run_in_threadpool(work)
        return self.page(request, "upload.html", session=session, rows=None, opt=self.config.ingest,
                         may_upload=bool(session and session.may("upload")))

    async def upload(self, request: Request) -> Response:
        opt = self.config.ingest
        with self.store() as store:  # refuse before reading a byte of the body
            _session_may(self, request, store, "upload")
        length = request.headers.get("content-length")
        if length is None:
            raise HTTPException(411, "uploads need a Content-Length")
        if int(length) > opt.max_file_bytes * opt.max_files:
            raise HTTPException(413, "upload too large")
        form = await request.form(max_files=opt.max_files, max_fields=20)
        files = [f for f in form.getlist("files") if hasattr(f, "read")]

        def work() -> list[dict[str, Any]]:
            with self.store() as store:
                self.write_access(request, store, "upload", form)
                if not files:
                    raise HTTPException(400, "no files in the upload (field 'files')")
                return ingest_uploads(store, [(f.filename, f.file) for f in files], opt)

        try:
            rows = await run_in_threadpool(work)
        finally:
            await form.close()
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"files": rows}, status_code=200)
        with self.store() as store:
            session = self.session(request, store)
        return self.page(request, "upload.html", session=session, rows=rows, opt=opt, may_upload=True)

    async def report(self, request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        fmt = request.query_params.get("format", "html")
        if lang not in REPORT_LANGS or fmt not in REPORT_FORMATS:
            raise HTTPException(400, f"lang must be one of {REPORT_LANGS}, format one of {tuple(REPORT_FORMATS)}")

        def work() -> tuple[Path, Path]:
            with self.store() as store:
                self.read_access(request, store)
            from uavsim.report import build_report

            out = Path(tempfile.mkdtemp(prefix="uavsim-report-"))
            build_report(self.config.db, out, langs=(lang,), formats=(fmt,), dem=self.config.dem,
                         terrain=self.config.use_terrain)
            return out, out / f"report-{lang}.{fmt}"

        out, path = await run_in_threadpool(work)
        import shutil

        return FileResponse(path, media_type=REPORT_FORMATS[fmt], filename=path.name,
                            background=BackgroundTask(shutil.rmtree, out, True))

    # -- JSON API -------------------------------------------------------------------------------------------
    async def api_stats(self, request: Request) -> Response:
        by = request.query_params.get("by")

        def work() -> dict[str, Any]:
            with self.store() as store:
                self.read_access(request, store)
                flights = views.all_flights(store)
            if not flights:
                raise HTTPException(404, "the store holds no flights")
            return views.stats_document(flights, self.config.stats, by=by)

        return _json(await run_in_threadpool(work))

    async def api_flights(self, request: Request) -> Response:
        q = http.query(request)

        def work() -> dict[str, Any]:
            with self.store() as store:
                self.read_access(request, store)
                flights = [f for f in store.flights() if not views.is_ground_run(f) and q.matches(f)]
                return {"flights": [f.to_dict() for f in flights], "ground_runs": views.ground_runs(store)}

        return _json(await run_in_threadpool(work))

    async def api_flight(self, request: Request) -> Response:
        flight_id = request.path_params["flight_id"]

        def work() -> dict[str, Any] | None:
            with self.store() as store:
                self.read_access(request, store)
                f = store.flight(flight_id, with_telemetry=request.query_params.get("telemetry") == "1")
                return None if f is None else dict(f.to_dict(telemetry=True), reviews=store.reviews(flight_id))

        doc = await run_in_threadpool(work)
        if doc is None:
            raise HTTPException(404, f"no flight {flight_id!r} in this store")
        return _json(doc)

    async def reviews(self, request: Request) -> Response:
        def work() -> tuple[auth.Session | None, list[dict[str, Any]]]:
            with self.store() as store:
                return self.read_access(request, store), store.reviews()

        session, rows = await run_in_threadpool(work)
        if request.url.path.startswith("/api/"):
            return _json({"reviews": rows})
        return self.page(request, "reviews.html", rows=rows[::-1], session=session)

    async def api_session(self, request: Request) -> Response:
        with self.store() as store:
            s = self.session(request, store)
        return _json({"user": None} if s is None else {"user": s.user, "role": s.role, "csrf_token": s.csrf_token,
                                                       "expires_unix": s.expires_unix})

    async def static(self, request: Request) -> Response:
        entry = self.static_files.get(request.path_params["name"])
        if entry is None:
            raise HTTPException(404, "no such file")
        return FileResponse(entry[0], media_type=entry[1], headers={"Cache-Control": "public, max-age=86400"})

    async def error(self, request: Request, exc: Exception) -> Response:
        status, detail = http.status_of(exc)
        if status == 500:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"error": detail}, status_code=status)
        return self.page(request, "error.html", status=status, status_code=status, detail=detail, session=None)


def _session_may(app: Workbench, request: Request, store: Store, action: str) -> None:
    """Before the body is read: a session is needed (401) and its role must fit (403); the token comes later."""
    session = app.session(request, store)
    if session is None:
        raise HTTPException(401, "log in first")
    if not session.may(action):
        raise HTTPException(403, f"{session.user} ({session.role}) may not {action}")


def _json(doc: Any) -> JSONResponse:
    return JSONResponse(_jsonable(doc))


def create_app(config: WebConfig) -> Starlette:
    """The workbench over the store at ``config.db`` (which must exist)."""
    Store.existing(config.db).close()  # fails clearly, creating nothing; migrates an older store once
    wb = Workbench(config)
    routes = [
        Route("/", wb.dashboard), Route("/flights", wb.flights), Route("/flights/{flight_id}", wb.flight),
        Route("/flights/{flight_id}/review", wb.review, methods=["POST"]),
        Route("/login", wb.login_form, methods=["GET"]), Route("/login", wb.login, methods=["POST"]),
        Route("/logout", wb.logout, methods=["POST"]),
        Route("/upload", wb.upload_form, methods=["GET"]), Route("/upload", wb.upload, methods=["POST"]),
        Route("/report", wb.report), Route("/api/stats", wb.api_stats), Route("/api/flights", wb.api_flights),
        Route("/api/flights/{flight_id}", wb.api_flight), Route("/api/session", wb.api_session),
        Route("/reviews", wb.reviews), Route("/api/reviews", wb.reviews),
        Route("/static/{name}", wb.static),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: wb.error, UavSimError: wb.error,
                                                        Exception: wb.error})
