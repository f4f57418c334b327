"""The delivery tests reuse the catalog world (simulator + generated SMILE folder)."""

from tests.catalog.conftest import world  # noqa: F401 - a fixture
