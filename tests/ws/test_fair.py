from balto.asr.fair import FairQueue, Job


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
    assert q.put(job("a", "i1", interim=True)) is None
    superseded = q.put(job("a", "i2", interim=True))
    assert superseded is not None and superseded.payload == "i1"
    superseded = q.put(job("a", "final"))
    assert superseded is not None and superseded.payload == "i2"
    assert q.put(job("a", "next")) is None  # finals are never dropped
    assert [q.get().payload, q.get().payload] == ["final", "next"]
    assert len(q) == 0
