"""Shared pytest configuration; fixtures live in plugins under tests/fixtures/."""

pytest_plugins = ["tests.fixtures.services"]
