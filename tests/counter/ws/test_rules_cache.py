"""Rules per chain: parsed once per version, never rolled back by an auth that read the
database before a replacement, and followed by live sessions' detectors."""

from balto.counter.detect import Detector, default_rules, load_rules
from balto.counter.ws.rules_cache import ChainRules, RulesCache

SUN = {"id": "sol", "categoria": "pele", "gatilhos": ["queimadura de sol"]}
SUN |= {"mensagem": "Sugerir protetor", "produto": "Protetor"}
SUN_RULES = load_rules({"versao": 1, "regras": [SUN]})


def test_a_chain_that_never_changed_its_rules_runs_the_default():
    cache = RulesCache()
    got = cache.for_chain(1, 0, None)
    assert got == ChainRules(0, default_rules()) and got.rules is cache.default


def test_one_parse_per_version_and_no_going_back():
    cache = RulesCache()
    first = cache.for_chain(1, 2, SUN_RULES.to_json())
    assert [r.id for r in first.rules.rules] == ["sol"]
    assert cache.for_chain(1, 2, SUN_RULES.to_json()) is first  # parsed once
    newer = cache.publish(1, 3, None)  # PUT back to the default
    assert newer == ChainRules(3, default_rules())
    # a counter whose auth read the database before the PUT gets the newer rules all the same
    assert cache.for_chain(1, 2, SUN_RULES.to_json()) is newer
    assert cache.publish(1, 3, SUN_RULES) is newer  # an older or equal publish changes nothing
    assert cache.for_chain(2, 0, None).revision == 0  # another chain: its own


def test_a_live_detector_follows_its_chain_and_only_its_chain():
    cache = RulesCache()
    mine = cache.for_chain(1, 0, None)
    theirs = cache.for_chain(2, 0, None)
    detector, other = Detector(mine.rules), Detector(theirs.rules)
    assert cache.refresh(1, mine, detector) is mine  # nothing new
    assert detector.detect("queimadura de sol", 0.0) == []
    published = cache.publish(1, 1, SUN_RULES)
    mine = cache.refresh(1, mine, detector)
    assert mine is published and detector.rules is SUN_RULES
    assert [o.rule_id for o in detector.detect("queimadura de sol", 1.0)] == ["sol"]
    assert cache.refresh(2, theirs, other) is theirs
    assert other.rules is default_rules() and other.detect("queimadura de sol", 1.0) == []
