"""The panel's session rules without a server: the cookie, the CSRF token, the Origin."""

from datetime import UTC, datetime

import pytest

from balto.core.errors import BadRequest, Forbidden
from balto.core.http.messages import Request
from balto.counter.admin import sessions

SID = "q2Vb3nJ0-x_9aZkLmN4pQrStUvWxYz0123456789Abc"


def request(method: str = "POST", scheme: str = "http", **headers: str) -> Request:
    pairs = [("host", "balto.local:8765")]
    pairs += [(name.replace("_", "-"), value) for name, value in headers.items()]
    return Request(method=method, target="/api/x", headers=tuple(pairs), scheme=scheme)


def test_the_cookie_is_found_among_others():
    assert sessions.session_cookie(request(cookie=f"a=1; balto_sessao={SID}; b=2")) == SID
    assert sessions.session_cookie(request(cookie="a=1")) is None
    assert sessions.session_cookie(request()) is None
    assert sessions.well_formed(SID) and not sessions.well_formed(SID + "x")


def test_the_csrf_token_is_bound_to_the_session():
    token = sessions.csrf_token(SID)
    assert token == sessions.csrf_token(SID) != sessions.csrf_token(SID[::-1])
    assert len(token) == 43 and SID not in token


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reads_need_no_token(method):
    sessions.check_state_change(request(method, origin="https://mal.example"), SID)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, sessions.CSRF_MISSING),
        ({"x_csrf_token": ""}, sessions.CSRF_MISSING),
        ({"x_csrf_token": "errado"}, sessions.CSRF_WRONG),
        (
            {"x_csrf_token": sessions.csrf_token(SID), "origin": "http://outro"},
            sessions.FOREIGN_ORIGIN,
        ),
        (
            {"x_csrf_token": sessions.csrf_token(SID), "origin": "https://balto.local:8765"},
            sessions.FOREIGN_ORIGIN,  # the scheme is part of the origin
        ),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_state_changes_are_refused_403(method, headers, message):
    with pytest.raises(Forbidden) as info:
        sessions.check_state_change(request(method, **headers), SID)
    assert info.value.message == message and info.value.status == 403


def test_the_right_token_from_the_own_origin_passes():
    token = sessions.csrf_token(SID)
    sessions.check_state_change(request(x_csrf_token=token), SID)
    sessions.check_state_change(request(x_csrf_token=token, origin="http://Balto.local:8765"), SID)
    tls = request(scheme="https", x_csrf_token=token, origin="https://balto.local:8765")
    sessions.check_state_change(tls, SID)


def test_cookies():
    now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    cookie = sessions.set_cookie(SID, "2024-05-02T20:00:00.000+00:00", now, secure=False)
    assert cookie == f"balto_sessao={SID}; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800"
    assert sessions.set_cookie(SID, "2024-05-02T12:00:00.000+00:00", now, secure=True).endswith(
        "Max-Age=0; Secure"
    )
    assert sessions.clear_cookie(secure=False).startswith("balto_sessao=; ")


def test_login_body():
    assert sessions.parse_login({"email": " a@b.com ", "chave_admin": SID}) == ("a@b.com", SID)
    for body in [
        {},
        {"email": "a@b.com"},
        {"email": "a", "chave_admin": 1},
        {"email": "a", "chave_admin": SID, "x": 1},
    ]:
        with pytest.raises(BadRequest):
            sessions.parse_login(body)
