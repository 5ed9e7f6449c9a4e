import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from colorgan.base.errors import ColorganError
from colorgan.priors.backbones import (
    IMAGENET_TO_VOC,
    VOC_CLASSES,
    DeepLabV3Segmentation,
    EfficientNetLite0,
    InceptionResNetV2Embedding,
)
from colorgan.priors.semantic import expand_segmentation


@pytest.mark.slow
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


@pytest.mark.slow
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


class Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_hub_weights_are_downloaded_checked_and_never_unpickled(tmp_path, monkeypatch):
    from colorgan.priors.backbones import file_digest, hub_file, load_state_dict_file

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    served = tmp_path / "served"
    served.mkdir()
    torch.save({"w": torch.ones(2)}, served / "net.pth")
    cached = hub_file((served / "net.pth").as_uri())  # a URL, as torchvision's is
    assert cached.parent == tmp_path / "torch" / "hub" / "checkpoints"
    assert torch.equal(load_state_dict_file(cached)["w"], torch.ones(2))
    assert file_digest(cached) == file_digest(served / "net.pth")  # fingerprinted by content
    torch.save({"w": Payload()}, served / "evil.pth")
    with pytest.raises(ColorganError, match="cannot read weights file"):
        load_state_dict_file(hub_file((served / "evil.pth").as_uri()))
    assert not (tmp_path / "PWNED").exists()
    # a name carrying a hash prefix (as torchvision's files do) is checked against it
    torch.save({"w": torch.zeros(2)}, served / "net-deadbeef.pth")
    with pytest.raises(RuntimeError, match="invalid hash"):
        hub_file((served / "net-deadbeef.pth").as_uri())


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_weight_file_for_another_network_is_a_clear_error(tmp_path):
    path = tmp_path / "wrong.safetensors"
    save_file({"foo.weight": torch.zeros(3)}, str(path))
    with pytest.raises(ColorganError, match="does not fit inception_resnet_v2"):
        InceptionResNetV2Embedding(str(path))
    (tmp_path / "junk.pth").write_bytes(b"\x80not a pickle")
    with pytest.raises(ColorganError, match="cannot read weights file"):
        DeepLabV3Segmentation(str(tmp_path / "junk.pth"))


@pytest.mark.subprocess
def test_missing_paper_weights_offline_name_the_alternatives(tmp_path):
    code = (
        "from colorgan.priors.semantic import InceptionResNetV2Embedding as M\n"
        "from colorgan.base.errors import ColorganError\n"
        "try:\n    M(None)\nexcept ColorganError as e:\n    print(e)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "embedding_weights" in out.stdout and "efficientnet_lite0" in out.stdout


def test_imagenet_groups_name_the_voc_classes():
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    names = {
        v: [info.index_to_description(i).lower() for i in idx] for v, idx in IMAGENET_TO_VOC.items()
    }
    assert set(names) == set(VOC_CLASSES[1:])
    assert "airliner" in names["aeroplane"][0] and "tabby" in names["cat"][0]
    assert names["dog"][0].startswith("chihuahua") and "mexican hairless" in names["dog"][-1]
    assert any("dining table" in n for n in names["diningtable"])
    assert any("television" in n for n in names["tvmonitor"])
    flat = [i for idx in IMAGENET_TO_VOC.values() for i in idx]
    assert len(flat) == len(set(flat))


@pytest.mark.slow
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
