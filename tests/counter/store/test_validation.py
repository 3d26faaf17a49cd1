import pytest

from balto.core.errors import BadRequest
from balto.counter.cadastro.validate import parse_balcao, parse_cliente

GOOD = {
    "email": "Contato@RedePharma.com",
    "razao_social": " Rede Pharma LTDA ",
    "telefone": "(11) 99999-8888",
}


def test_cliente_normalised():
    new = parse_cliente(GOOD)
    assert new.email == "contato@redepharma.com"
    assert new.razao_social == "Rede Pharma LTDA"
    assert new.telefone == "11999998888"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"email": None}, "email"),
        ({"email": "sem-arroba"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": 5}, "email"),
        ({"razao_social": "   "}, "razao_social"),
        ({"razao_social": "x" * 201}, "razao_social"),
        ({"telefone": "12345"}, "telefone"),
        ({"telefone": "11 9999A8888"}, "telefone"),
        ({"extra": 1}, "extra"),
    ],
)
def test_cliente_bad_fields_name_the_field(change, fragment):
    body = dict(GOOD)
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    with pytest.raises(BadRequest) as info:
        parse_cliente(body)
    assert fragment in info.value.message


def test_balcao():
    new = parse_balcao({"nome_balcao": "Loja 01 - Centro", "user_codigo": "012345"})
    assert new.user_codigo == "012345"
    for bad in (
        {"nome_balcao": "L", "user_codigo": 12345},
        {"nome_balcao": "L", "user_codigo": "12a456"},
        {"nome_balcao": "", "user_codigo": "123456"},
        {"user_codigo": "123456"},
    ):
        with pytest.raises(BadRequest):
            parse_balcao(bad)
