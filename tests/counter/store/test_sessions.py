"""The panel's sessions (both backends): hashed ids, expiry, logout, and the key's replacement
(through the API or the operator's ``balto chave-admin``) ending the chain's sessions."""

import time

from balto.counter.store.sessions import hash_session
from tests.counter.store.test_management import chain


def test_login_needs_the_same_chains_email_and_key_and_stores_only_a_hash(db):
    a, b = chain(db), chain(db, "c@d.com")
    assert db.login("c@d.com", a.chave_admin, 60) is None
    assert db.login("a@b.com", b.chave_admin, 60) is None
    new = db.login("A@B.com", a.chave_admin, 60)
    assert new is not None and len(new.sessao) == 43
    stored = db.query("SELECT sessao_hash FROM sessoes")
    assert stored == [(hash_session(new.sessao),)]
    cliente, expira_em = db.session(new.sessao)
    assert cliente.codigo == a.codigo and expira_em == new.expira_em
    assert db.session("A" * 43) is None


def test_expired_sessions_stop_and_are_purged_at_the_next_login(db):
    keys = chain(db)
    old = db.login("a@b.com", keys.chave_admin, 0.05)
    time.sleep(0.1)
    assert db.session(old.sessao) is None
    db.login("a@b.com", keys.chave_admin, 60)
    assert db.query("SELECT COUNT(*) FROM sessoes") == [(1,)]


def test_logout_and_key_replacement_end_sessions(db):
    a, b = chain(db), chain(db, "c@d.com")
    first = db.login("a@b.com", a.chave_admin, 60)
    second = db.login("a@b.com", a.chave_admin, 60)
    theirs = db.login("c@d.com", b.chave_admin, 60)
    db.end_session(first.sessao)
    assert db.session(first.sessao) is None and db.session(second.sessao) is not None
    db.issue_chave_admin(codigo=a.codigo)  # the operator's CLI
    assert db.session(second.sessao) is None and db.session(theirs.sessao) is not None
    again = db.login("c@d.com", b.chave_admin, 60)
    cliente, _ = db.session(again.sessao)
    db.issue_chave_admin(cliente_id=cliente.id)  # the API
    assert db.session(theirs.sessao) is None and db.session(again.sessao) is None
