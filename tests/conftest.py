"""Shared pytest configuration; fixtures live in plugins under tests/fixtures/."""

import os

# The API requires keys by default (production). Tests, and the API processes they
# start, run without them unless a test turns auth on (tests/producer_api/test_security.py).
os.environ.setdefault("AUTH_ENABLED", "false")

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.pipeline"]
