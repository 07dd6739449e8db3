"""docs/binarizers.md is generated from the registry and kept current; recipes resolve."""

from pathlib import Path

from lab_bnn import catalog
from lab_bnn.errors import UserError
from lab_bnn.recipes import RECIPES, get_recipe

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "binarizers.md"


def test_docs_table_is_current():
    assert DOCS.read_text() == catalog.markdown(), (
        "docs/binarizers.md is stale: run `python -m lab_bnn.catalog > docs/binarizers.md`"
    )


def test_xnor_net_is_the_only_recipe_that_does_not_deploy_binary():
    assert [n for n, r in RECIPES.items() if not catalog.deploys_binary(r)] == ["xnor_net"]


def test_unknown_recipe_is_one_clear_error():
    with pytest.raises(UserError, match=r"unknown binarization recipe 'xnor'; known: bnn, xnor_net"):
        get_recipe("xnor")
