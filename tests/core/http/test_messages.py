import pytest

from balto.core.errors import BadRequest, MethodNotAllowed, TooManyRequests, UnsupportedMediaType
from balto.core.http.messages import Request, error_response


def req(body: bytes, content_type: str | None = "application/json") -> Request:
    headers = (("content-type", content_type),) if content_type else ()
    return Request("POST", "/x?a=1&b=", headers, body)


def test_json_object_parses():
    assert req(b'{"a": 1}').json_object() == {"a": 1}
    assert req(b'{"a": 1}', "application/json; charset=utf-8").json_object() == {"a": 1}


@pytest.mark.parametrize(
    ("body", "content_type", "error", "fragment"),
    [
        (b'{"a": 1}', None, UnsupportedMediaType, "Content-Type"),
        (b'{"a": 1}', "text/plain", UnsupportedMediaType, "Content-Type"),
        (b"", "application/json", BadRequest, "vazio"),
        (b"\xff\xfe", "application/json", BadRequest, "UTF-8"),
        (b'{"a": ', "application/json", BadRequest, "JSON malformado"),
        (b"[1, 2]", "application/json", BadRequest, "objeto JSON"),
    ],
)
def test_json_object_errors(body, content_type, error, fragment):
    with pytest.raises(error) as info:
        req(body, content_type).json_object()
    assert fragment in info.value.message


def test_query_and_headers():
    r = req(b"")
    assert r.path == "/x"
    assert r.query == {"a": ["1"], "b": [""]}
    assert r.header("Content-Type") == "application/json"


def test_error_response_carries_status_and_headers():
    response = error_response(MethodNotAllowed("não", allowed=("GET",)))
    assert response.status == 405 and ("Allow", "GET") in response.headers
    response = error_response(TooManyRequests("devagar", retry_after_s=30))
    assert response.status == 429 and ("Retry-After", "30") in response.headers
    assert response.body == b'{"error": "devagar"}'
