"""The real NCM table, as ``balto partnumber ncm install`` leaves it in the cache: read, attached
and used by the classifier. Skipped where it is not installed (``make ncm`` installs it)."""

from __future__ import annotations

import pytest

from balto.partnumber.classify import Classifier, ClassifyRequest, Progress
from balto.partnumber.classify.ncm_csv import read_ncm_csv
from balto.partnumber.config import PartnumberConfig, resolve_ncm_table
from balto.partnumber.ncm_source import installed_table, is_installed

CONFIG = PartnumberConfig.from_env()
TABLE = installed_table(CONFIG.cache_dir)
pytestmark = pytest.mark.skipif(
    not is_installed(TABLE),
    reason=f"tabela NCM não instalada em {TABLE}: rode 'balto partnumber ncm install'",
)


@pytest.fixture(scope="module")
def installed_classifier() -> Classifier:
    table = resolve_ncm_table(CONFIG)
    assert table == TABLE
    return Classifier.load(ncm_table=table, cache_dir=CONFIG.classifier_cache_dir)


def test_the_installed_table_has_every_level() -> None:
    table = read_ncm_csv(TABLE)
    assert sum(len(code) == 8 for code in table) > 10_000
    assert table["8482"].startswith("Rolamentos de esferas, de roletes ou de agulhas")
    assert table["848210"] == "Rolamentos de esferas"
    assert table["84821010"] == "De carga radial"


def test_ball_bearing_goes_to_heading_8482(installed_classifier: Classifier) -> None:
    seen: list[Progress] = []
    result = installed_classifier.classify(
        ClassifyRequest("RB-1", "rolamento de esferas"), seen.append
    )
    assert result.classification is not None, result.message
    # The answer is an item of the most probable subheading, ball bearings (8482.10), with
    # its Portuguese description, not the single item of a less probable one (8482.30.00).
    headings, subheadings = installed_classifier.top_codes("rolamento de esferas")
    assert headings[0] == "8482" and subheadings[0] == "848210"
    answer = result.classification
    assert answer.code.startswith("8482.10."), result.candidates
    assert len(answer.code) == 10  # 8 digits with the table
    assert result.candidates[0] == answer
    assert "esferas" in answer.description.lower(), answer


def test_an_english_description_is_not_read_through_the_glossary(
    installed_classifier: Classifier,
) -> None:
    # "Madeira" and "cola" are Portuguese words for wood and glue; in English they are a wine
    # and a nut. A Portuguese description still goes through the glossary.
    wine, query = installed_classifier.interpret("Madeira and Setubal muscatel wine")
    assert query.language == "en"
    assert "wood" not in wine.segments and "wine" in wine.segments, wine
    nuts = installed_classifier.interpret("Kola nuts, fresh or dried")[0]
    assert not {"glue", "adhesive"} & set(" ".join(nuts.segments).split()), nuts
    portuguese, query = installed_classifier.interpret("mesa de madeira")
    assert query.language == "pt"
    assert "wood" in " ".join(portuguese.segments), portuguese
