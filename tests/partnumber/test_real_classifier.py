"""End to end with the real classifier (no double): the seed's JS client and a polling client.

The classifier is loaded once per test session; its nomenclature embeddings are cached on disk
(the first run on a machine encodes them, which takes a couple of minutes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from balto.partnumber.classify import Classifier
from tests.helpers import http
from tests.partnumber.conftest import start_partnumber
from tests.partnumber.eio_client import PollingClient
from tests.partnumber.support import JS_DIR, npm_ready, wait_state

CATALOG = "partnumber;fabricante;ncm;descricao\nLAT-5440/I5;Dell;8471.30.12;Notebook Latitude\n"


@pytest.fixture(scope="session")
def real_classifier(tmp_path_factory: pytest.TempPathFactory) -> Classifier:
    catalog = tmp_path_factory.mktemp("catalogo") / "catalogo.csv"
    catalog.write_text(CATALOG, encoding="utf-8")
    return Classifier.load(catalog_csv=catalog)


async def test_real_classifier_end_to_end(
    nursery: trio.Nursery, real_classifier: Classifier, tmp_path: Path
) -> None:
    server = await start_partnumber(nursery, real_classifier)
    client = PollingClient(server.port)
    with trio.fail_after(20):
        await client.connect()
        body = {"partnumber": "NB-14-XYZ", "description": "Notebook portátil 14 polegadas"}
        reply = await http(server.port, "POST", "/classify-partnumber", body)
        assert reply.status == 202
        accepted = reply.json()
        await client.emit("join", {"room_id": accepted["room_id"]})
        finished = (await client.until("classification_finished"))[0]
        assert finished["status"] == "done" and finished["source"] == "modelo"
        assert finished["candidates"] and finished["candidates"][0]["code"].startswith("84")
        statuses = [a[0] for n, a in client.events if n == "classification_update_status"]
        assert statuses and all(s["total"] == "5" for s in statuses)
        assert statuses[-1]["current"] == "5"

        reply = await http(
            server.port,
            "POST",
            "/classify-partnumber",
            {"partnumber": "LAT-5440/I5", "manufacturer": "Dell"},
        )
        task_id = reply.json()["task_id"]
        snapshot = await wait_state(server, task_id, "done")
        result = snapshot["result"]
        assert isinstance(result, dict)
        assert result["source"] == "catalogo"
        assert result["classification"]["code"] == "8471.30.12"

        reason = await trio.to_thread.run_sync(npm_ready)
        if reason is None:
            done = await trio.run_process(
                ["node", str(JS_DIR / "seed_client.mjs"), server.url],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
            out = done.stdout.decode()
            assert done.returncode == 0 and out.count("FINISHED:") == 1, out
            assert "partnumber: 'PN-TS-TEST-12345'" in out and "status: 'done'" in out
    server.lifecycle.stop()
