from balto.counter.asr.fair import FairQueue, Job


def job(owner, name, interim=False):
    return Job(owner, name, interim, 0.0)


def test_round_robin_across_owners():
    q = FairQueue()
    for i in range(3):
        q.put(job("talker", f"t{i}"))
    q.put(job("quiet", "q0"))
    order = [q.get().payload for _ in range(4)]
    assert order == ["t0", "q0", "t1", "t2"]
    assert q.get() is None


def test_newer_job_supersedes_pending_interim():
    q = FairQueue()
    assert q.put(job("a", "i1", interim=True)) == []
    assert [j.payload for j in q.put(job("a", "i2", interim=True))] == ["i1"]
    assert [j.payload for j in q.put(job("a", "final"))] == ["i2"]
    assert q.put(job("a", "next")) == []
    assert [q.get().payload, q.get().payload] == ["final", "next"]
    assert len(q) == 0


def test_an_owner_never_has_more_than_max_pending():
    q = FairQueue(max_pending=2)
    q.put(job("a", "f1"))
    q.put(job("a", "f2"))
    assert [j.payload for j in q.put(job("a", "f3"))] == ["f1"]
    q.put(job("b", "g1"))
    assert len(q) == 3
    assert [q.get().payload for _ in range(3)] == ["f2", "g1", "f3"]


def test_finals_first_takes_an_ended_utterance_before_talk_in_progress():
    for finals_first, expected in ((False, ["a-i", "b-f", "c-f"]), (True, ["b-f", "c-f", "a-i"])):
        q = FairQueue(finals_first=finals_first)
        q.put(job("a", "a-i", interim=True))
        q.put(job("b", "b-f"))
        q.put(job("c", "c-f"))
        assert [q.get().payload for _ in range(3)] == expected
    # among finals, owners still take turns; with only interims waiting, round robin as before
    q = FairQueue(finals_first=True)
    q.put(job("a", "a-f1"))
    q.put(job("a", "a-f2"))
    q.put(job("b", "b-f1"))
    q.put(job("c", "c-i", interim=True))
    assert [q.get().payload for _ in range(4)] == ["a-f1", "b-f1", "a-f2", "c-i"]
