"""The panel's login sessions through a real server: the cookie, logout, expiry, forged and
foreign cookies, CSRF and Origin on state-changing calls, the bearer unaffected, and a key
rotation that ends the chain's sessions."""

import trio

from balto.counter.admin import sessions
from tests.conftest import start_server
from tests.e2e.test_admin_api import Chain, api, new_chain, new_counter
from tests.helpers import http


class Session:
    def __init__(self, cookie: str, csrf: str) -> None:
        self.cookie = cookie
        self.csrf = csrf

    def headers(self, *, csrf: str | None = None, origin: str | None = None):
        headers = [("cookie", f"tema=escuro; {sessions.COOKIE_NAME}={self.cookie}")]
        if csrf is not None:
            headers.append(("x-csrf-token", csrf))
        if origin is not None:
            headers.append(("origin", origin))
        return headers


async def login(port: int, email: str, chain: Chain) -> Session:
    r = await http(port, "POST", "/api/sessao", {"email": email, "chave_admin": chain.chave_admin})
    assert r.status == 200, r.body
    assert r.headers["cache-control"] == "no-store"
    cookie = r.headers["set-cookie"]
    name_value, *attributes = cookie.split("; ")
    name, _, value = name_value.partition("=")
    assert name == "balto_sessao" and len(value) == 43
    assert set(attributes) >= {"HttpOnly", "SameSite=Strict", "Path=/"}
    assert "Secure" not in attributes  # plain HTTP: the browser would never send it back
    body = r.json()
    assert set(body) == {"csrf", "expira_em"} and body["csrf"]
    return Session(value, body["csrf"])


async def test_login_use_and_logout(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    await new_counter(port, chain, "Loja 01")
    r = await http(
        port, "POST", "/api/sessao", {"email": "REDE@a.com ", "chave_admin": chain.chave_admin}
    )
    assert r.status == 200 and "Max-Age=28800" in r.headers["set-cookie"]
    session = await login(port, "rede@a.com", chain)
    r = await http(port, "GET", "/api/balcoes", headers=session.headers())
    assert r.status == 200 and [b["nome_balcao"] for b in r.json()["balcoes"]] == ["Loja 01"]
    r = await http(port, "GET", "/api/sessao", headers=session.headers())
    assert r.status == 200 and r.json()["csrf"] == session.csrf
    # the bearer has no session to show or end
    assert (await api(port, "GET", "/api/sessao", chain)).status == 404
    assert (await http(port, "DELETE", "/api/sessao", headers=session.headers())).status == 403
    r = await http(port, "DELETE", "/api/sessao", headers=session.headers(csrf=session.csrf))
    assert r.status == 200 and r.json() == {"sessao": "encerrada"}
    assert r.headers["set-cookie"].startswith("balto_sessao=; ")
    assert "Max-Age=0" in r.headers["set-cookie"]
    r = await http(port, "GET", "/api/balcoes", headers=session.headers())
    assert r.status == 401 and r.json() == {"error": sessions.INVALID_SESSION}
    assert (await api(port, "GET", "/api/balcoes", chain)).status == 200  # the key still works


async def test_wrong_logins_are_401_and_throttled_with_the_keys(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    other = await new_chain(port, "rede@b.com")
    wrong = [
        {"email": "rede@a.com", "chave_admin": other.chave_admin},  # another chain's key
        {"email": "rede@b.com", "chave_admin": chain.chave_admin},
        {"email": "rede@a.com", "chave_admin": "A" * 43},
    ]
    for body in wrong:
        r = await http(port, "POST", "/api/sessao", body)
        assert r.status == 401 and r.json() == {"error": sessions.WRONG_LOGIN}, body
    for body in [{"email": "rede@a.com"}, {"email": 1, "chave_admin": "x"}, {"x": 1}]:
        assert (await http(port, "POST", "/api/sessao", body)).status == 400
    for _ in range(server.config.chave_admin_failures_burst - len(wrong)):
        assert (await http(port, "POST", "/api/sessao", wrong[0])).status == 401
    right = {"email": "rede@a.com", "chave_admin": chain.chave_admin}
    r = await http(port, "POST", "/api/sessao", right)
    assert r.status == 429 and int(r.headers["retry-after"]) >= 1


async def test_an_expired_session_is_401(nursery, tmp_path, scripted):
    running = await start_server(nursery, tmp_path, lambda: scripted, scripted, sessao_ttl_s=0.5)
    try:
        chain = await new_chain(running.port, "rede@a.com")
        session = await login(running.port, "rede@a.com", chain)
        assert (
            await http(running.port, "GET", "/api/balcoes", headers=session.headers())
        ).status == 200
        await trio.sleep(0.7)
        r = await http(running.port, "GET", "/api/balcoes", headers=session.headers())
        assert r.status == 401 and r.json() == {"error": sessions.INVALID_SESSION}
    finally:
        running.lifecycle.stop()


async def test_forged_cookies_are_401(server):
    port = server.port
    await new_chain(port, "rede@a.com")
    for value in ["A" * 43, "curto", "x" * 500, ""]:
        r = await http(port, "GET", "/api/balcoes", headers=Session(value, "").headers())
        assert r.status == 401, value
        assert r.headers["www-authenticate"] == 'Bearer realm="balto"'


async def test_a_session_sees_only_its_own_chain(server):
    port = server.port
    a, b = await new_chain(port, "rede@a.com"), await new_chain(port, "rede@b.com")
    await new_counter(port, a, "Loja A1")
    await new_counter(port, b, "Loja B1")
    a_id = (await api(port, "GET", "/api/balcoes", a)).json()["balcoes"][0]["id"]
    theirs = await login(port, "rede@b.com", b)
    r = await http(port, "GET", "/api/balcoes", headers=theirs.headers())
    assert [row["nome_balcao"] for row in r.json()["balcoes"]] == ["Loja B1"]
    r = await http(
        port, "POST", f"/api/balcoes/{a_id}/revogar", headers=theirs.headers(csrf=theirs.csrf)
    )
    assert r.status == 404
    r = await http(port, "GET", "/api/relatorios?agrupar=balcao", headers=theirs.headers())
    assert r.status == 200 and r.json()["linhas"] == []
    assert (await api(port, "GET", "/api/balcoes", a)).json()["balcoes"][0]["revogado_em"] is None


async def test_state_changing_calls_by_cookie_need_the_csrf_token_and_own_origin(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    other = await new_chain(port, "rede@b.com")
    await new_counter(port, chain, "Loja 01")
    counter = (await api(port, "GET", "/api/balcoes", chain)).json()["balcoes"][0]["id"]
    session = await login(port, "rede@a.com", chain)
    second = await login(port, "rede@a.com", chain)  # the same chain, another session
    assert second.csrf != session.csrf
    theirs = await login(port, "rede@b.com", other)
    path = f"/api/balcoes/{counter}/revogar"
    refused = {
        sessions.CSRF_MISSING: session.headers(),
        sessions.CSRF_WRONG: session.headers(csrf="errado"),
        sessions.CSRF_WRONG + " ": session.headers(csrf=second.csrf),
        sessions.CSRF_WRONG + "  ": session.headers(csrf=theirs.csrf),
        sessions.FOREIGN_ORIGIN: session.headers(csrf=session.csrf, origin="https://mal.example"),
        sessions.FOREIGN_ORIGIN + " ": session.headers(csrf=session.csrf, origin="null"),
    }
    for message, headers in refused.items():
        r = await http(port, "POST", path, headers=headers)
        assert r.status == 403 and r.json() == {"error": message.strip()}, message
        r = await http(port, "PUT", "/api/regras", {"versao": 1, "regras": []}, headers=headers)
        assert r.status == 403, message
    assert (await api(port, "GET", "/api/balcoes", chain)).json()["balcoes"][0][
        "revogado_em"
    ] is None
    # reading needs no token
    assert (await http(port, "GET", "/api/regras", headers=session.headers())).status == 200
    ok = session.headers(csrf=session.csrf, origin="http://localhost")
    r = await http(port, "POST", path, headers=ok)
    assert r.status == 200 and r.json()["revogado_em"] is not None
    # a foreign login page cannot log a browser in either
    r = await http(
        port,
        "POST",
        "/api/sessao",
        {"email": "rede@a.com", "chave_admin": chain.chave_admin},
        headers=[("origin", "https://mal.example")],
    )
    assert r.status == 403


async def test_the_bearer_needs_no_csrf_token(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    await new_counter(port, chain, "Loja 01")
    counter = (await api(port, "GET", "/api/balcoes", chain)).json()["balcoes"][0]["id"]
    headers = [*chain.bearer, ("origin", "https://script.example")]
    r = await http(port, "POST", f"/api/balcoes/{counter}/revogar", headers=headers)
    assert r.status == 200
    # with both, the bearer decides (no cookie rules apply)
    session = await login(port, "rede@a.com", chain)
    r = await http(port, "DELETE", "/api/regras", headers=[*chain.bearer, *session.headers()])
    assert r.status == 200


async def test_rotating_the_key_ends_the_chains_sessions(server):
    port = server.port
    chain = await new_chain(port, "rede@a.com")
    other = await new_chain(port, "rede@b.com")
    first = await login(port, "rede@a.com", chain)
    second = await login(port, "rede@a.com", chain)
    theirs = await login(port, "rede@b.com", other)
    r = await api(port, "POST", "/api/chave/rotacionar", chain)
    assert r.status == 200
    rotated = Chain(chain.codigo, r.json()["chave_admin"])
    for ended in (first, second):
        assert (await http(port, "GET", "/api/balcoes", headers=ended.headers())).status == 401
    assert (await http(port, "GET", "/api/balcoes", headers=theirs.headers())).status == 200
    # rotating from the panel: the new key is shown, this session ends, its cookie is removed
    session = await login(port, "rede@a.com", rotated)
    r = await http(
        port, "POST", "/api/chave/rotacionar", headers=session.headers(csrf=session.csrf)
    )
    assert r.status == 200 and r.json()["chave_admin"] != rotated.chave_admin
    assert "Max-Age=0" in r.headers["set-cookie"]
    assert (await http(port, "GET", "/api/balcoes", headers=session.headers())).status == 401
