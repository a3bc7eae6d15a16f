"""The test vectors in tests/fixtures/vectors/ are byte-identical copies of shared/'s."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = REPO_ROOT.parent / "shared" / "binance-pay" / "vectors"
COPIES = REPO_ROOT / "tests" / "fixtures" / "vectors"


@pytest.mark.skipif(not SHARED_VECTORS.is_dir(), reason="shared/ is not beside this checkout")
@pytest.mark.parametrize("name", ["request-signing.json", "real-pay-success-webhook.json"])
def test_vector_copy_matches_shared(name):
    assert (COPIES / name).read_bytes() == (SHARED_VECTORS / name).read_bytes()
