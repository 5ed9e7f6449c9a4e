"""pytest with torch and the training libraries impossible to import (conftest.BLOCK_TORCH),
as the light install leaves them out: `python -m tests.torch_free [PYTEST ARGS]`. `make
test-fast` runs the tests that need none of them so, which proves that they need none: one
that imported torch, even through a module it tests, would fail."""

import sys

import pytest

from tests.conftest import BLOCK_TORCH

exec(BLOCK_TORCH)
sys.exit(pytest.main(sys.argv[1:]))
