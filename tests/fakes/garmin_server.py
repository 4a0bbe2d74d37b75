"""A fake Garmin Connect on 127.0.0.1 that the real ``garminconnect`` client talks to, unmodified.

garminconnect 0.3.2 has no base-URL setting: its hosts are fixed ``https://`` URLs (``sso.garmin.com``,
``connectapi.garmin.com`` and the module constant ``DI_TOKEN_URL`` on ``diauth.garmin.com``). Both HTTP stacks it
uses (``requests`` and ``curl_cffi``) honour the standard proxy and CA-bundle environment variables, so this fake
is an HTTPS *proxy*: the client sends ``CONNECT sso.garmin.com:443``, the fake answers the TLS handshake itself with
a certificate for ``*.garmin.com`` signed by a throw-away CA generated for the test run, and serves the request.
Nothing in the library or in VeloCoach is patched; ``FakeGarmin.env()`` is the whole wiring, and the same variables
point a ``streamlit run`` subprocess at the fake.

Responses are shaped like the recorded ones in ``tests/data/garmin/`` (from garth's VCR cassettes): the activity
list search, the FIT "original" download (a zip holding ``<id>_ACTIVITY.fit``), the mobile SSO login with its
MFA step, the DI OAuth token exchange and refresh. Faults are scripted with ``fail_next`` (HTTP 429, 500, …),
``revoke_tokens`` (401 everywhere) and ``expire_access_tokens`` (401 until the client refreshes).

Workouts and the calendar follow the requests garminconnect 0.3.2 makes: ``POST /workout-service/workout``
(``upload_workout``/``upload_cycling_workout``: the workout JSON, answered with it and a ``workoutId``),
``GET``/``DELETE /workout-service/workout/{id}``, ``POST /workout-service/schedule/{id}`` with ``{"date"}``
(answered with a ``workoutScheduleId``), ``DELETE /workout-service/schedule/{id}`` (204), and
``GET /calendar-service/year/{y}/month/{m - 1}`` (``calendarItems``: workouts and activities). Uploaded workouts
are checked against the shape Garmin Connect needs (``workout_problems``); a malformed one gets HTTP 400 and is
recorded in ``errors``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
import json
import re
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.fakes import BackgroundServer

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "garmin"
LIST_TEMPLATE = DATA_DIR / "garth__activitylist_search_limit3.json"
FIT_FILE = DATA_DIR / "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"
GARMIN_HOSTS = ("garmin.com", "sso.garmin.com", "connectapi.garmin.com", "connect.garmin.com",
                "diauth.garmin.com", "mobile.integration.garmin.com", "services.garmin.com")
LIST_PATH = "/activitylist-service/activities/search/activities"
DOWNLOAD_PREFIX = "/download-service/files/activity/"
DI_CLIENT_ID = "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2"
WORKOUT_PATH = "/workout-service/workout"
SCHEDULE_PATH = "/workout-service/schedule"
CALENDAR_MONTH = re.compile(r"^/calendar-service/year/(\d{4})/month/(\d{1,2})$")


@dataclass
class Request:
    method: str
    host: str
    path: str
    query: dict[str, str]


@dataclass
class _Fault:
    path_prefix: str
    status: int
    times: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt(exp: float) -> str:
    """A JWT-shaped token: garminconnect reads ``exp`` and ``client_id`` from its payload (no signature check)."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"client_id": DI_CLIENT_ID, "exp": int(exp),
                               "jti": secrets.token_hex(8)}).encode())
    return f"{header}.{payload}.{_b64(b'fake-signature')}"


# --------------------------------------------------------------------------------------------------------------
# A throw-away CA and a *.garmin.com certificate, made once per test process (EC keys: milliseconds).
# --------------------------------------------------------------------------------------------------------------
_CERTS: tuple[Path, Path, Path] | None = None
_CERTS_LOCK = threading.Lock()


def _make_certificates() -> tuple[Path, Path, Path]:
    """(ca.pem, server-cert.pem, server-key.pem) in a private temporary folder."""
    global _CERTS
    with _CERTS_LOCK:
        if _CERTS is not None and all(p.exists() for p in _CERTS):
            return _CERTS
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "VeloCoach test CA (fake Garmin)")])
        ca_cert = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.DNSName(h) for h in GARMIN_HOSTS] + [x509.DNSName("*.garmin.com")]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*.garmin.com")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=29))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        folder = Path(tempfile.mkdtemp(prefix="fake-garmin-ca-"))
        ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
        ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        _CERTS = (ca_path, cert_path, key_path)
        return _CERTS


def cycling_activities(count: int, first_start: dt.datetime | None = None, *, first_id: int = 20_000_000_001,
                       type_key: str = "road_biking", spacing: dt.timedelta = dt.timedelta(days=1)) -> list[dict]:
    """``count`` list-search summaries cloned from the recorded response, made into rides one ``spacing`` apart."""
    template = json.loads(LIST_TEMPLATE.read_text(encoding="utf-8"))[0]
    first_start = first_start or dt.datetime(2024, 5, 1, 7, 0, tzinfo=dt.UTC)
    activities = []
    for i in range(count):
        summary = copy.deepcopy(template)
        start = first_start + i * spacing
        summary.update({
            "activityId": first_id + i,
            "activityName": f"Morning ride {i + 1}",
            "startTimeGMT": start.strftime("%Y-%m-%d %H:%M:%S"),
            "startTimeLocal": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
            "beginTimestamp": int(start.timestamp() * 1000),
            "duration": 3600.0 + i, "elapsedDuration": 3700.0 + i, "movingDuration": 3500.0 + i,
            "distance": 30_000.0 + 100 * i, "averageHR": 140.0, "maxHR": 171.0,
            "avgPower": 190.0, "maxPower": 610.0, "normPower": 205.0,
            "averageBikingCadenceInRevPerMinute": 88.0,
        })
        summary["activityType"] = {**summary["activityType"], "typeKey": type_key, "typeId": 10,
                                   "parentTypeId": 2}
        activities.append(summary)
    return activities


class FakeGarmin(BackgroundServer):
    """State of the fake service. ``with FakeGarmin() as fake:`` starts it; ``fake.env()`` points clients at it."""

    def __init__(self, email: str = "rider@example.com", password: str = "correct horse battery",
                 mfa_code: str | None = None, activities: list[dict] | None = None,
                 fit_files: dict[int, bytes] | None = None):
        self.email = email
        self.password = password
        self.mfa_code = mfa_code  # None: no MFA on this account
        self.activities: list[dict] = list(activities or [])
        self.fit_files: dict[int, bytes] = dict(fit_files or {})
        self.requests: list[Request] = []
        self.errors: list[str] = []
        self._faults: list[_Fault] = []
        self._tickets: set[str] = set()
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.ssl_context: ssl.SSLContext | None = None
        self.ca_file: Path | None = None
        self.workouts: dict[int, dict] = {}     # workoutId -> the uploaded JSON (with its id)
        self.schedules: dict[int, dict] = {}    # workoutScheduleId -> {"workoutId", "date"}
        self._next_id = 900_000_001

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def start(self) -> FakeGarmin:
        ca_path, cert_path, key_path = _make_certificates()
        self.ca_file = ca_path
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        context.set_alpn_protocols(["http/1.1"])
        self.ssl_context = context
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._serve(server, "fake-garmin")
        return self

    @property
    def proxy_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """Environment that sends requests/curl_cffi traffic for garmin.com through this fake and trusts its CA."""
        ca = str(self.ca_file)
        return {"HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
                "HTTP_PROXY": self.proxy_url, "http_proxy": self.proxy_url,
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "REQUESTS_CA_BUNDLE": ca, "CURL_CA_BUNDLE": ca, "SSL_CERT_FILE": ca}

    def install(self, monkeypatch) -> FakeGarmin:
        for name, value in self.env().items():
            monkeypatch.setenv(name, value)
        return self

    # -- scripting ------------------------------------------------------------------------------------------------
    def fail_next(self, path_prefix: str, status: int, times: int = 1) -> None:
        """The next ``times`` requests whose path starts with ``path_prefix`` get ``status``."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, status, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def revoke_tokens(self) -> None:
        """The rider signed out everywhere / changed the password: every token is refused."""
        with self._lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Access tokens stop working; refresh tokens still do (the client should refresh on its own)."""
        with self._lock:
            self.access_tokens.clear()

    def count(self, path_prefix: str, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix)
                       and (method is None or r.method == method))

    def list_requests(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == LIST_PATH]

    # -- behaviour ------------------------------------------------------------------------------------------------
    def _take_fault(self, path: str) -> int | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix) and fault.times > 0:
                    fault.times -= 1
                    return fault.status
        return None

    def _new_ticket(self) -> str:
        ticket = "ST-" + secrets.token_hex(8)
        with self._lock:
            self._tickets.add(ticket)
        return ticket

    def _issue_tokens(self) -> dict:
        access, refresh = fake_jwt(time.time() + 3600), "refresh-" + secrets.token_hex(12)
        with self._lock:
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600,
                "refresh_token_expires_in": 7776000, "scope": "CONNECT_READ CONNECT_WRITE"}

    def handle(self, method: str, host: str, path: str, query: dict[str, str], headers, body: bytes):
        """(status, body bytes, content type) for one request."""
        with self._lock:
            self.requests.append(Request(method, host, path, query))
        status = self._take_fault(path)
        if status is not None:
            return status, json.dumps({"message": f"scripted fault {status}"}).encode(), "application/json"
        if host == "sso.garmin.com":
            return self._sso(method, path, body)
        if host == "diauth.garmin.com" and path == "/di-oauth2-service/oauth/token":
            return self._token(parse_qs(body.decode()))
        if host == "connectapi.garmin.com":
            token = headers.get("Authorization", "").removeprefix("Bearer ")
            with self._lock:
                allowed = token in self.access_tokens
            if not allowed:
                return 401, b'{"message": "Unauthorized"}', "application/json"
            return self._api(method, path, query, body)
        return 404, b'{"message": "no such fake endpoint"}', "application/json"

    def _sso(self, method: str, path: str, body: bytes):
        if method == "POST" and path == "/mobile/api/login":
            data = json.loads(body or b"{}")
            if data.get("username") != self.email or data.get("password") != self.password:
                return _json(200, {"responseStatus": {"type": "INVALID_USERNAME_PASSWORD"}})
            if self.mfa_code:
                return _json(200, {"responseStatus": {"type": "MFA_REQUIRED"},
                                   "customerMfaInfo": {"mfaLastMethodUsed": "email"}})
            return _json(200, {"responseStatus": {"type": "SUCCESSFUL"}, "serviceTicketId": self._new_ticket()})
        if method == "POST" and path.endswith("/api/mfa/verifyCode"):
            data = json.loads(body or b"{}")
            if self.mfa_code and data.get("mfaVerificationCode") == self.mfa_code:
                return _json(200, {"responseStatus": {"type": "SUCCESSFUL"}, "serviceTicketId": self._new_ticket()})
            return _json(200, {"responseStatus": {"type": "INVALID_MFA_CODE"}})
        # Any other SSO page (the library's fallback strategies): "rate limited", so they stop at once
        # instead of reaching their anti-bot sleeps.
        return 429, b"Too Many Requests", "text/plain"

    def _token(self, form: dict[str, list[str]]):
        grant = form.get("grant_type", [""])[0]
        if grant.endswith("service_ticket"):
            ticket = form.get("service_ticket", [""])[0]
            with self._lock:
                valid = ticket in self._tickets
                self._tickets.discard(ticket)
            if not valid:
                return _json(400, {"error": "invalid_grant"})
            return _json(200, self._issue_tokens())
        if grant == "refresh_token":
            refresh = form.get("refresh_token", [""])[0]
            with self._lock:
                valid = refresh in self.refresh_tokens
                self.refresh_tokens.discard(refresh)
            if not valid:
                return _json(401, {"error": "invalid_grant", "error_description": "refresh token revoked"})
            return _json(200, self._issue_tokens())
        return _json(400, {"error": "unsupported_grant_type"})

    def _api(self, method: str, path: str, query: dict[str, str], body: bytes = b""):
        if path.startswith(("/workout-service/", "/calendar-service/")):
            return self._workouts_api(method, path, body)
        if path == LIST_PATH:
            return _json(200, self._search(query))
        if path.startswith(DOWNLOAD_PREFIX):
            activity_id = int(path.removeprefix(DOWNLOAD_PREFIX))
            data = self.fit_files.get(activity_id)
            if data is None:
                return _json(404, {"message": "Not Found"})
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{activity_id}_ACTIVITY.fit", data)
            return 200, buffer.getvalue(), "application/x-zip-compressed"
        if path == "/userprofile-service/socialProfile":
            return _json(200, {"displayName": "fake-rider", "fullName": "Fake Rider", "userName": self.email})
        if path == "/userprofile-service/userprofile/user-settings":
            return _json(200, {"userData": {"measurementSystem": "metric"}})
        if path.startswith("/activity-service/activity/"):
            activity_id = int(path.rsplit("/", 1)[1])
            for summary in self.activities:
                if summary["activityId"] == activity_id:
                    return _json(200, summary)
        return _json(404, {"message": "Not Found"})

    # -- workouts and the calendar ------------------------------------------------------------------------------
    def calendar(self) -> list[tuple[str, dict]]:
        """(date, workout) of everything on the calendar, by date."""
        with self._lock:
            return sorted((s["date"], self.workouts[s["workoutId"]]) for s in self.schedules.values()
                          if s["workoutId"] in self.workouts)

    def _new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _workouts_api(self, method: str, path: str, body: bytes):
        if method == "POST" and path == WORKOUT_PATH:
            payload = json.loads(body or b"null")
            problems = workout_problems(payload)
            if problems:
                self.errors.extend(problems)
                return _json(400, {"message": "Invalid workout: " + "; ".join(problems)})
            workout = {**payload, "workoutId": self._new_id(), "ownerId": 12345678,
                       "createdDate": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0")}
            with self._lock:
                self.workouts[workout["workoutId"]] = workout
            return _json(200, workout)
        if path.startswith(WORKOUT_PATH + "/"):
            workout_id = int(path.rsplit("/", 1)[1])
            with self._lock:
                workout = self.workouts.get(workout_id)
                if workout is not None and method == "DELETE":
                    del self.workouts[workout_id]
                    self.schedules = {k: v for k, v in self.schedules.items() if v["workoutId"] != workout_id}
            if workout is None:
                return _json(404, {"message": "Not Found"})
            return (204, b"", "application/json") if method == "DELETE" else _json(200, workout)
        if path.startswith(SCHEDULE_PATH + "/"):
            item_id = int(path.rsplit("/", 1)[1])
            if method == "POST":
                day = json.loads(body or b"{}").get("date", "")
                with self._lock:
                    workout = self.workouts.get(item_id)
                if workout is None:
                    return _json(404, {"message": "Not Found"})
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                    return _json(400, {"message": "Invalid date"})
                schedule_id = self._new_id()
                with self._lock:
                    self.schedules[schedule_id] = {"workoutId": item_id, "date": day}
                return _json(200, {"workoutScheduleId": schedule_id, "workout": workout, "calendarDate": day})
            with self._lock:
                found = self.schedules.pop(item_id, None) if method == "DELETE" else self.schedules.get(item_id)
            if found is None:
                return _json(404, {"message": "Not Found"})
            return (204, b"", "application/json") if method == "DELETE" else _json(200, found)
        match = CALENDAR_MONTH.match(path)
        if match and method == "GET":
            year, month0 = int(match.group(1)), int(match.group(2))
            prefix = f"{year:04d}-{month0 + 1:02d}-"
            with self._lock:
                items = [{"id": sid, "itemType": "workout", "workoutId": s["workoutId"], "date": s["date"],
                          "title": self.workouts[s["workoutId"]]["workoutName"], "sportTypeKey": "cycling"}
                         for sid, s in self.schedules.items() if s["date"].startswith(prefix)]
            items += [{"id": a["activityId"], "itemType": "activity", "date": a["startTimeLocal"][:10],
                       "title": a["activityName"]} for a in self.activities if a["startTimeLocal"].startswith(prefix)]
            return _json(200, {"year": year, "month": month0, "calendarItems": items})
        return _json(404, {"message": "Not Found"})

    def _search(self, query: dict[str, str]) -> list[dict]:
        """Garmin's search: newest first unless sortOrder=asc; startDate/endDate on the local start date."""
        items = list(self.activities)
        if query.get("startDate"):
            items = [a for a in items if a["startTimeLocal"][:10] >= query["startDate"]]
        if query.get("endDate"):
            items = [a for a in items if a["startTimeLocal"][:10] <= query["endDate"]]
        if query.get("activityType"):
            items = [a for a in items if a["activityType"]["typeKey"] == query["activityType"]]
        items.sort(key=lambda a: (a["startTimeGMT"], a["activityId"]), reverse=query.get("sortOrder") != "asc")
        start, limit = int(query.get("start", 0)), int(query.get("limit", 20))
        return items[start:start + limit]


_STEP_KEYS = {"type", "stepOrder", "stepType", "endCondition", "endConditionValue"}


def workout_problems(payload) -> list[str]:
    """What Garmin Connect would refuse in an uploaded workout (the fields its workout editor always sends)."""
    if not isinstance(payload, dict):
        return ["the workout is not a JSON object"]
    problems = [f"missing {k}" for k in ("workoutName", "sportType", "workoutSegments") if not payload.get(k)]
    if len(str(payload.get("workoutName", ""))) > 80:
        problems.append("workoutName longer than 80 characters")
    if len(str(payload.get("description") or "")) > 512:
        problems.append("description longer than 512 characters")
    orders: list[int] = []

    def check(steps, where: str) -> None:
        if not isinstance(steps, list) or not steps:
            problems.append(f"{where}: no workoutSteps")
            return
        for step in steps:
            missing = _STEP_KEYS - set(step)
            if missing:
                problems.append(f"{where}: step without {sorted(missing)}")
                continue
            orders.append(step["stepOrder"])
            if step["type"] == "RepeatGroupDTO":
                if int(step.get("numberOfIterations") or 0) < 1:
                    problems.append(f"{where}: repeat without numberOfIterations")
                check(step.get("workoutSteps"), f"{where} > repeat {step['stepOrder']}")
            elif step["type"] != "ExecutableStepDTO":
                problems.append(f"{where}: unknown step type {step['type']!r}")
            elif step["endCondition"].get("conditionTypeKey") == "time" and not step["endConditionValue"] > 0:
                problems.append(f"{where}: a timed step needs endConditionValue > 0")
            elif step.get("targetType", {}).get("workoutTargetTypeKey") == "power.zone" and not (
                    0 < step.get("targetValueOne", 0) <= step.get("targetValueTwo", 0)):
                problems.append(f"{where}: a power target needs 0 < targetValueOne <= targetValueTwo")

    for segment in payload.get("workoutSegments") or []:
        check(segment.get("workoutSteps"), f"segment {segment.get('segmentOrder')}")
    if orders and sorted(orders) != list(range(1, len(orders) + 1)):
        problems.append("stepOrder is not 1..n across the workout")
    return problems


def _json(status: int, value) -> tuple[int, bytes, str]:
    return status, json.dumps(value).encode(), "application/json"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGarmin


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server
    tunnel_host = ""

    def log_message(self, format, *args):  # noqa: A002 — quiet; requests are recorded on the fake
        pass

    def do_CONNECT(self):
        host = self.path.rsplit(":", 1)[0]
        self.send_response(200, "Connection established")
        self.end_headers()
        try:
            tls = self.server.fake.ssl_context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.server.fake.errors.append(f"TLS handshake for {host} failed: {exc}")
            self.close_connection = True
            return
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")
        self.tunnel_host = host
        self.close_connection = False

    def _serve(self):
        parts = urlsplit(self.path)
        host = self.tunnel_host or (parts.hostname or self.headers.get("Host", "").split(":")[0])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            status, payload, content_type = self.server.fake.handle(self.command, host, parts.path, query,
                                                                    self.headers, body)
        except Exception as exc:  # noqa: BLE001 — a bug in the fake must show up as a 500, not a hang
            self.server.fake.errors.append(f"{self.command} {host}{parts.path}: {exc!r}")
            status, payload, content_type = 500, b'{"message": "fake server error"}', "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def cleanup_certificates() -> None:
    global _CERTS
    if _CERTS is not None:
        shutil.rmtree(_CERTS[0].parent, ignore_errors=True)
        _CERTS = None
