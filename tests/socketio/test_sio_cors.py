"""CORS / Origin policy."""

from __future__ import annotations

import pytest

from balto.socketio.cors import CorsConfig, check_cors
from balto.socketio.errors import OriginRejected

ACAO = "Access-Control-Allow-Origin"


def headers(
    config: CorsConfig, origin: str | None, method: str = "GET", **kw: str
) -> dict[str, str]:
    return dict(
        check_cors(config, method=method, origin=origin, scheme="http", host="shop:5000", **kw)
    )


def test_default_is_same_origin() -> None:
    config = CorsConfig()
    assert headers(config, "http://shop:5000")[ACAO] == "http://shop:5000"
    with pytest.raises(OriginRejected) as info:
        headers(config, "http://evil.example")
    assert info.value.status == 403
    assert ACAO not in headers(config, None)  # non-browser clients send no Origin


def test_forwarded_origin_is_same_origin() -> None:
    got = headers(
        CorsConfig(),
        "https://public.example",
        forwarded_proto="https",
        forwarded_host="public.example, x",
    )
    assert got[ACAO] == "https://public.example"


def test_allow_list_echoes_the_origin() -> None:
    config = CorsConfig(allowed_origins=("https://a.example", "https://b.example"))
    assert headers(config, "https://b.example")[ACAO] == "https://b.example"
    with pytest.raises(OriginRejected):
        headers(config, "http://evil.example")
    single = CorsConfig(allowed_origins="https://a.example")
    assert headers(single, "https://a.example")[ACAO] == "https://a.example"


def test_star_allows_anything_and_preflight_headers() -> None:
    got = headers(
        CorsConfig(allowed_origins="*"),
        "https://x.example",
        method="OPTIONS",
        request_headers="content-type",
    )
    assert got == {
        ACAO: "https://x.example",
        "Access-Control-Expose-Headers": "Retry-After",
        "Access-Control-Allow-Methods": "OPTIONS, GET, POST",
        "Access-Control-Allow-Headers": "content-type",
        "Access-Control-Allow-Credentials": "true",
    }
    assert headers(CorsConfig(allowed_origins=["*"], credentials=False), "https://y") == {
        ACAO: "https://y",
        "Access-Control-Expose-Headers": "Retry-After",
    }


def test_empty_list_disables_cors_handling() -> None:
    assert headers(CorsConfig(allowed_origins=()), "http://evil.example") == {}


@pytest.mark.parametrize("allowed", ["https://app.example", ("https://app.example",)])
def test_same_origin_is_always_accepted(allowed: str | tuple[str, ...]) -> None:
    """python-socketio's client sends the server's own origin: an allow-list never drops it."""
    config = CorsConfig(allowed_origins=allowed)
    assert headers(config, "http://shop:5000")[ACAO] == "http://shop:5000"
    assert headers(config, "https://app.example")[ACAO] == "https://app.example"
    with pytest.raises(OriginRejected):
        headers(config, "http://evil.example")


def test_retry_after_is_exposed_to_browsers() -> None:
    got = headers(CorsConfig(), "http://shop:5000")
    assert got["Access-Control-Expose-Headers"] == "Retry-After"
