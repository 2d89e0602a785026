"""The orders tests run on the outbound documents tests' gateway (``env``): the same
partners, keys and API client."""

from tests.gateway.test_documents import env  # noqa: F401 (a fixture, found by its name)
