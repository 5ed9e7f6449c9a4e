import pytest
import torch

from colorgan.models import (
    FusionGenerator,
    KoalarizationGenerator,
    PatchDiscriminator,
    UNetGenerator,
)
from colorgan.models.fusion import DECODER, ENCODER


def test_the_fusion_generator_follows_table_1():
    g = FusionGenerator()
    convs = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)]
    # first layer: 24 kernels over L x3 + 21 classes = 24 channels
    assert (convs[0].in_channels, convs[0].out_channels) == (24, 24)
    encoder = [(c.out_channels, c.stride[0]) for c in convs[1:9]]
    assert encoder == ENCODER == [(64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1),
                                  (512, 1), (256, 1)]  # fmt: skip
    fusion = convs[9]
    assert fusion.kernel_size == (1, 1) and fusion.in_channels == 256 + 1000
    assert fusion.out_channels == 256
    assert [c.out_channels for c in convs[10:]] == [128, 64, 64, 32, 2]
    assert DECODER.count("up") == 3
    ups = [m for m in g.decoder if isinstance(m, torch.nn.Upsample)]
    assert all(u.mode == "nearest" for u in ups)
    assert isinstance(g.decoder[-2], torch.nn.Tanh)


@pytest.mark.parametrize("size", [(64, 64), (48, 80)])
def test_fusion_generator_shapes_and_fusion_grid(size):
    g = FusionGenerator()
    h, w = size
    l_norm = torch.rand(2, 1, h, w) * 2 - 1
    seen = {}
    g.fusion.register_forward_hook(lambda m, i, o: seen.update(inp=i[0].shape, out=o.shape))
    ab = g(l_norm, torch.randn(2, 1000), torch.rand(2, 21, h, w))
    assert ab.shape == (2, 2, h, w)
    assert ab.abs().max() <= 1
    assert seen["inp"] == (2, 1256, h // 8, w // 8)  # encoder 256 + embedding tiled on H/8 x W/8
    assert seen["out"] == (2, 256, h // 8, w // 8)


def test_embedding_is_the_same_at_every_grid_position():
    g = FusionGenerator(embedding_dim=10, segmentation_classes=0)
    seen = {}
    g.fusion.register_forward_hook(lambda m, i, o: seen.update(x=i[0]))
    emb = torch.randn(1, 10)
    g(torch.zeros(1, 1, 32, 32), emb)
    tiled = seen["x"][0, 256:]
    assert torch.equal(tiled, emb[0, :, None, None].expand(-1, 4, 4))


def test_ablations_remove_their_inputs():
    no_seg = FusionGenerator(segmentation_classes=0)
    assert no_seg(torch.zeros(1, 1, 32, 32), torch.randn(1, 1000)).shape == (1, 2, 32, 32)
    no_emb = FusionGenerator(embedding_dim=0)
    assert no_emb.fusion[0].in_channels == 256
    assert no_emb(torch.zeros(1, 1, 32, 32), None, torch.rand(1, 21, 32, 32)).shape[1] == 2
    with pytest.raises(ValueError):
        FusionGenerator()(torch.zeros(1, 1, 32, 32))


def test_koalarization_is_table_4_on_one_l_channel():
    k = KoalarizationGenerator()
    first = next(m for m in k.modules() if isinstance(m, torch.nn.Conv2d))
    assert (first.in_channels, first.out_channels, first.stride) == (1, 64, (2, 2))
    assert k(torch.zeros(1, 1, 32, 32), torch.randn(1, 1000)).shape == (1, 2, 32, 32)


def test_unet_256_maps_l_to_ab():
    u = UNetGenerator().eval()
    assert u(torch.zeros(1, 1, 256, 256)).shape == (1, 2, 256, 256)
    assert not any(isinstance(m, torch.nn.Dropout) for m in u.modules())


def test_patchgan_sees_70_by_70_patches():
    d = PatchDiscriminator().eval()
    l_norm = torch.zeros(1, 1, 256, 256, requires_grad=True)
    ab = torch.zeros(1, 2, 256, 256)
    out = d(l_norm, ab)
    assert out.shape == (1, 1, 30, 30)
    out[0, 0, 15, 15].backward()
    rows = (l_norm.grad[0, 0].abs().sum(1) > 0).nonzero()
    cols = (l_norm.grad[0, 0].abs().sum(0) > 0).nonzero()
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70


def test_unet_depth_follows_the_image_size():
    from colorgan.models import UNetGenerator

    for downs, size in ((7, 128), (8, 256)):
        out = UNetGenerator(ngf=8, downs=downs)(torch.zeros(1, 1, size, size))
        assert out.shape == (1, 2, size, size)


def test_spectral_norm_patchgan_keeps_every_conv_near_unit_gain():
    from colorgan.models import PatchDiscriminator

    torch.manual_seed(0)
    plain, sn = PatchDiscriminator(ndf=8), PatchDiscriminator(ndf=8, spectral_norm=True)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in sn.modules())
    x, ab = torch.randn(2, 1, 64, 64), torch.randn(2, 2, 64, 64)
    assert sn(x, ab).shape == plain(x, ab).shape  # the same 70x70 patches
    for _ in range(30):  # power iteration runs in training mode
        sn(x, ab)
    convs = [m for m in sn.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert abs(sigma.item() - 1.0) < 0.05, sigma


def test_every_generator_is_registered_with_its_options_and_needs():
    from colorgan.models import GENERATORS, Needs, PriorSizes, generator_class
    from colorgan.models.fusion import FusionOptions, KoalarizationOptions
    from colorgan.models.unet import UNetOptions

    assert set(GENERATORS) == {"fusion", "koalarization", "unet"}
    fusion = generator_class("fusion")
    assert fusion.needs(FusionOptions()) == Needs(embedding=True, segmentation=True)
    assert fusion.needs(FusionOptions(use_segmentation=False)) == Needs(embedding=True)
    assert generator_class("koalarization").needs(KoalarizationOptions()) == Needs(embedding=True)
    assert generator_class("unet").needs(UNetOptions()) == Needs()
    # the prior sizes come from outside: a 10-class segmentation, a 7-wide embedding
    g = fusion.from_options(FusionOptions(), PriorSizes(embedding=7, segmentation=10))
    first = next(m for m in g.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 3 + 10 and g.fusion[0].in_channels == 256 + 7
    out = g(torch.zeros(1, 1, 32, 32), torch.randn(1, 7), torch.rand(1, 10, 32, 32))
    assert out.shape == (1, 2, 32, 32)
    unet = generator_class("unet").from_options(UNetOptions(downs=7), PriorSizes())
    assert unet(torch.zeros(1, 1, 128, 128)).shape == (1, 2, 128, 128)
