"""Rotating a counter's api_key in the store (both backends): a new key, shown once and kept
only as its hash; the old one stops at once; the counter keeps its id, name and history."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from balto.core.errors import Conflict
from balto.counter.cadastro.secrets import hash_api_key
from tests.counter.store.test_management import chain, counter

ALL_TIME = ("2000-01-01T00:00:00.000+00:00", "2100-01-01T00:00:00.000+00:00")


def test_rotation_replaces_the_key_and_keeps_the_counter_and_its_history(db):
    keys = chain(db)
    old_key, balcao = counter(db, keys.codigo)
    me = db.cliente_for_chave_admin(keys.chave_admin)
    before = db.create_interacao(
        balcao.id, regra="r", categoria="c", mensagem="m", produto="P", gatilho="g"
    )
    rotated = db.rotate_api_key(me.id, balcao.id)
    assert rotated is not None and rotated.api_key != old_key
    assert rotated.chave_antiga_hash == hash_api_key(old_key) == balcao.chave_hash
    assert rotated.record.id == balcao.id and rotated.record.nome_balcao == "Loja 1"
    assert rotated.record.revogado_em is None
    # Only the hash is stored, as at registration.
    stored = db.query("SELECT api_key_hash FROM balcoes WHERE id = ?", [balcao.id])[0][0]
    assert stored == hash_api_key(rotated.api_key) and rotated.api_key not in stored
    assert db.authenticate(old_key) is None
    again = db.authenticate(rotated.api_key)
    assert again is not None and (again.id, again.nome_balcao) == (balcao.id, "Loja 1")
    assert again.chave_hash == stored
    # Its history stays, and what it records from now on joins it.
    after = db.create_interacao(
        again.id, regra="r", categoria="c", mensagem="m", produto="P", gatilho="g"
    )
    db.record_feedback(again.id, before, "venda_realizada")
    rows = db.report_rows(me.id, *ALL_TIME)
    assert sorted(row[0] for row in rows) == [balcao.id, balcao.id]
    assert {before, after} <= {row[0] for row in db.query("SELECT id FROM interacoes")}
    assert db.key_hashes_of(me.id) == {balcao.id: stored}


def test_rotation_is_scoped_to_the_chain(db):
    mine, other = chain(db), chain(db, "c@d.com")
    key, balcao = counter(db, mine.codigo)
    them = db.cliente_for_chave_admin(other.chave_admin)
    assert db.rotate_api_key(them.id, balcao.id) is None  # not theirs: as if it did not exist
    assert db.rotate_api_key(them.id, 999) is None
    assert db.authenticate(key) is not None
    assert db.key_hashes_of(them.id) == {}


def test_a_revoked_counter_cannot_be_rotated_back_to_life(db):
    keys = chain(db)
    key, balcao = counter(db, keys.codigo)
    me = db.cliente_for_chave_admin(keys.chave_admin)
    db.revoke_balcao(me.id, balcao.id)
    with pytest.raises(Conflict):
        db.rotate_api_key(me.id, balcao.id)
    assert db.query("SELECT api_key_hash FROM balcoes")[0][0] == hash_api_key(key)
    assert db.authenticate(key) is None
    assert db.key_hashes_of(me.id) == {}


def test_each_rotation_retires_the_previous_key(db):
    keys = chain(db)
    first, balcao = counter(db, keys.codigo)
    me = db.cliente_for_chave_admin(keys.chave_admin)
    second = db.rotate_api_key(me.id, balcao.id)
    third = db.rotate_api_key(me.id, balcao.id)
    assert second is not None and third is not None
    assert third.chave_antiga_hash == hash_api_key(second.api_key)
    assert [db.authenticate(k) is None for k in (first, second.api_key, third.api_key)] == [
        True,
        True,
        False,
    ]


def test_concurrent_rotations_each_retire_the_key_before_them(db):
    """Two managers at once (PostgreSQL: two connections): one after the other, never both
    from the same old key; the last one's key is the one that works."""
    keys = chain(db)
    first, balcao = counter(db, keys.codigo)
    me = db.cliente_for_chave_admin(keys.chave_admin)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: db.rotate_api_key(me.id, balcao.id), range(2)))
    assert all(result is not None for result in results)
    retired = {result.chave_antiga_hash for result in results}
    issued = {hash_api_key(result.api_key) for result in results}
    assert hash_api_key(first) in retired and len(retired) == 2
    (last,) = issued - retired  # the key no rotation retired
    working = [r.api_key for r in results if db.authenticate(r.api_key) is not None]
    assert [hash_api_key(key) for key in working] == [last]
