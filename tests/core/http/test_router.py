import pytest

from balto.core.errors import MethodNotAllowed, NotFound
from balto.core.http.messages import Request, Response
from balto.core.http.router import Router


async def ok(request: Request) -> Response:
    return Response(200)


def make() -> Router:
    router = Router()
    router.add("POST", "/cadastro/cliente", ok)
    router.add("GET", "/tasks/{task_id}", ok)
    router.add("DELETE", "/tasks/{task_id}", ok)
    return router


def test_exact_and_parameter_routes():
    router = make()
    assert router.resolve("POST", "/cadastro/cliente").route.pattern == "/cadastro/cliente"
    match = router.resolve("GET", "/tasks/abc-1")
    assert match.params == {"task_id": "abc-1"}


def test_trailing_slash_is_the_same_route():
    assert make().resolve("POST", "/cadastro/cliente/").params == {}


def test_unknown_path_is_404():
    with pytest.raises(NotFound):
        make().resolve("GET", "/nada")
    with pytest.raises(NotFound):
        make().resolve("GET", "/tasks/")


def test_wrong_method_is_405_with_allow():
    with pytest.raises(MethodNotAllowed) as info:
        make().resolve("PUT", "/tasks/x")
    assert info.value.allowed == ("DELETE", "GET", "HEAD")  # HEAD: served by GET
    assert info.value.status == 405
