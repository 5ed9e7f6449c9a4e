import pytest
import torch

from colorgan.priors.semantic import (
    PRIOR_IMAGE_SIZE,
    SemanticPriors,
    expand_segmentation,
    generator_inputs,
    prior_sizes,
)
from colorgan.spec.options import Needs


def test_lite0_ablations_share_the_full_models_cache():
    both = SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam")
    assert SemanticPriors(None, "efficientnet_lite0_cam").fingerprint() == both.fingerprint()
    assert SemanticPriors("efficientnet_lite0", None).fingerprint() == both.fingerprint()
    assert SemanticPriors.for_generator(Needs(), "efficientnet_lite0", "deeplabv3_resnet50") is None


def test_the_priors_sizes_come_from_the_backbones():
    both = Needs(embedding=True, segmentation=True)
    sizes = prior_sizes("inception_resnet_v2", "deeplabv3_resnet50", both)
    assert (sizes.embedding, sizes.segmentation) == (1000, 21)
    sizes = prior_sizes("efficientnet_lite0", "efficientnet_lite0_cam", Needs(segmentation=True))
    assert (sizes.embedding, sizes.segmentation) == (0, 21)


@pytest.mark.slow
def test_generator_inputs_expand_what_the_generator_needs_to_its_size():
    priors = SemanticPriors("efficientnet_lite0", "efficientnet_lite0_cam")
    l_norm = torch.rand(2, 1, 48, 48) * 2 - 1
    native = priors.on_l(l_norm)
    assert native["segmentation"].shape == (2, 21, 8, 8)  # the priors see 256 x 256
    # the same outputs as running the backbones on the 256 px grey image directly
    big = torch.nn.functional.interpolate(
        l_norm, size=(PRIOR_IMAGE_SIZE,) * 2, mode="bilinear", antialias=True
    )
    from colorgan.colour.tensors import grey_from_l

    assert torch.allclose(native["embedding"], priors(grey_from_l(big))["embedding"])
    x = generator_inputs(l_norm, native, Needs(segmentation=True), False, torch.channels_last)
    assert set(x) == {"l_norm", "segmentation"}
    assert x["segmentation"].shape == (2, 21, 48, 48)
    assert x["segmentation"].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(x["segmentation"], expand_segmentation(native["segmentation"], 48, False))
    logits = generator_inputs(
        l_norm, {"segmentation": torch.randn(2, 21, 6, 6)}, Needs(segmentation=True), True
    )["segmentation"]
    assert torch.allclose(logits.sum(1), torch.ones(2, 48, 48), atol=1e-5)  # softmaxed


def test_unknown_backbones_are_one_error():
    from colorgan.base.errors import ColorganError

    with pytest.raises(ColorganError, match="unknown embedding"):
        SemanticPriors("resnet", None)
