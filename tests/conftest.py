"""Shared by every pytest suite: they run real containers, so they need root."""

import os

import pytest


def pytest_configure(config):
    if os.geteuid() != 0:
        pytest.exit("these tests run containers and need root", returncode=1)
