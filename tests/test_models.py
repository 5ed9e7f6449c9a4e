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
    assert (
        encoder
        == ENCODER
        == [(64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 1), (256, 1)]
    )
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


@pytest.mark.slow
def test_unet_256_maps_l_to_ab():
    """pix2pix's unet_256: L in, ab in tanh's range out, each pixel's ab led by the L there
    (the outermost skip) and by the whole photo (the 1x1 bottleneck)."""
    torch.manual_seed(0)
    u = UNetGenerator().eval()
    assert not any(isinstance(m, torch.nn.Dropout) for m in u.modules())
    l_norm = (torch.rand(1, 1, 256, 256) * 2 - 1).requires_grad_(True)
    ab = u(l_norm)
    assert ab.shape == (1, 2, 256, 256) and ab.abs().max() <= 1
    assert (ab - u(-l_norm)).abs().mean() > 1e-3  # another L, another ab
    ab[0, :, 10, 10].sum().backward()
    grad = l_norm.grad[0, 0].abs()
    assert grad[10, 10] > 0 and grad[200:, 200:].sum() > 0  # near and far: the whole photo


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
    """`downs` halvings reach a 1 x 1 bottleneck at 2 ** downs pixels, and a config that
    asks for another size is refused."""
    from colorgan.base.errors import ColorganError
    from colorgan.config import config_from_dict
    from colorgan.models import UNetGenerator

    for downs, size in ((7, 128), (8, 256)):
        u = UNetGenerator(ngf=8, downs=downs)
        halvings = [m for m in u.modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
        assert len(halvings) == downs
        seen = []
        halvings[-1].register_forward_hook(lambda m, i, out, seen=seen: seen.append(out.shape[-2:]))
        assert u(torch.zeros(1, 1, size, size)).shape == (1, 2, size, size)
        assert seen == [(1, 1)]
        model = {"generator": "unet", "unet": {"downs": downs}}
        assert config_from_dict({"data": {"image_size": size}, "model": model})
        with pytest.raises(ColorganError, match=f"needs data.image_size {size}"):
            config_from_dict({"data": {"image_size": size * 2}, "model": model})


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
    from colorgan.models import GENERATORS, generator_class
    from colorgan.models.fusion import FusionOptions, KoalarizationOptions
    from colorgan.models.unet import UNetOptions
    from colorgan.spec.options import Needs, PriorSizes

    assert set(GENERATORS) == {"fusion", "koalarization", "lite_unet", "mean", "unet"}
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


def test_the_lite_unet_starts_from_imagenet_and_fuses_the_priors():
    from colorgan.models import LiteUNetGenerator
    from colorgan.priors.backbones import lite_network, lite_weights_file

    g = LiteUNetGenerator()
    imagenet = lite_network(lite_weights_file()).state_dict()
    key = "_blocks.3._depthwise_conv.weight"
    assert not torch.equal(g.encoder.state_dict()[key], imagenet[key])
    g.load_pretrained()
    assert all(torch.equal(v, imagenet[k]) for k, v in g.encoder.state_dict().items())
    l_norm = torch.rand(2, 1, 64, 96) * 2 - 1
    seen = {}
    g.fusion.register_forward_hook(lambda m, i, o: seen.update(inp=i[0].shape))
    emb, seg = torch.randn(2, 1000, requires_grad=True), torch.rand(2, 21, 64, 96)
    seg.requires_grad_(True)
    ab = g.eval()(l_norm, emb, seg)
    assert ab.shape == (2, 2, 64, 96) and ab.abs().max() <= 1
    assert seen["inp"] == (2, 320 + 1000, 2, 3)  # Lite0's 1/32 stage + the tiled embedding
    ab.sum().backward()
    assert emb.grad.abs().sum() > 0 and seg.grad.abs().sum() > 0


def test_the_lite_unet_takes_a_larger_imagenet_encoder_with_its_own_stages():
    from colorgan.base.errors import ColorganError
    from colorgan.models import LiteUNetGenerator
    from colorgan.priors.backbones import (
        lite_network,
        lite_weights_file,
        stage_blocks,
        stage_channels,
    )
    from colorgan.spec.options import LiteUNetOptions

    lite0 = lite_network(None)
    assert stage_blocks(lite0) == (0, 2, 4, 10, 15)  # Lite0's last block at 1/2 .. 1/32
    assert stage_channels(lite0) == (16, 24, 40, 112, 320)
    g = LiteUNetGenerator(encoder="lite2", out_stride=4)
    assert len(g.encoder._blocks) > len(lite0._blocks)  # Lite2 is deeper and wider
    g.load_pretrained()
    imagenet = lite_network(lite_weights_file("lite2"), "lite2").state_dict()
    assert all(torch.equal(v, imagenet[k]) for k, v in g.encoder.state_dict().items())
    seen = {}
    g.fusion.register_forward_hook(lambda m, i, o: seen.update(inp=i[0].shape))
    ab = g.eval()(
        torch.rand(1, 1, 128, 128) * 2 - 1, torch.randn(1, 1000), torch.rand(1, 21, 128, 128)
    )
    assert ab.shape == (1, 2, 128, 128)
    assert seen["inp"] == (1, stage_channels(g.encoder)[-1] + 1000, 4, 4)  # 352 wide at 1/32
    with pytest.raises(ColorganError, match="lite0, lite1, lite2"):
        LiteUNetOptions(encoder="lite9").check(128)


def test_the_lite_unet_encoder_starts_from_a_local_weight_file_when_given_one(tmp_path):
    from safetensors.torch import save_file

    from colorgan.models import LiteUNetGenerator
    from colorgan.priors.backbones import lite_network, lite_weights_file
    from colorgan.spec.options import LiteUNetOptions, PriorSizes

    # an fp16 copy of other weights than the package's, without the unused ImageNet classifier,
    # as scripts/gpu/pack_colour.py writes it for a machine without the package
    other = lite_network(None).state_dict()
    half = {k: v.half() if v.is_floating_point() else v for k, v in other.items()}
    path = tmp_path / "encoder.safetensors"
    save_file({k: v for k, v in half.items() if not k.startswith("_fc.")}, str(path))
    options = LiteUNetOptions(
        encoder_weights=str(path), use_embedding=False, use_segmentation=False
    )
    g = LiteUNetGenerator.from_options(options, PriorSizes(embedding=0, segmentation=0))
    g.load_pretrained()
    key = "_blocks.3._depthwise_conv.weight"
    assert torch.equal(g.encoder.state_dict()[key], half[key].float())
    assert not torch.equal(
        g.encoder.state_dict()[key], lite_network(lite_weights_file()).state_dict()[key]
    )


def test_the_lite_unet_encoder_learns_slower_or_not_at_all():
    from colorgan.models import LiteUNetGenerator

    scaled = LiteUNetGenerator(encoder_lr_scale=0.1)
    groups = scaled.param_groups(1e-3)
    assert [g["lr"] for g in groups] == [1e-3, pytest.approx(1e-4)]
    assert sum(len(g["params"]) for g in groups) == len(list(scaled.parameters()))
    frozen = LiteUNetGenerator(encoder_lr_scale=0.0).train()
    (group,) = frozen.param_groups(1e-3)
    assert all(p.requires_grad for p in group["params"])
    assert not any(p.requires_grad for p in frozen.encoder.parameters())
    assert not frozen.encoder.training and frozen.decoder.training  # ImageNet's BN statistics


def test_the_lite_unet_needs_sizes_of_32():
    from colorgan.base.errors import ColorganError
    from colorgan.config import config_from_dict

    cfg = config_from_dict({"model": {"generator": "lite_unet"}, "data": {"image_size": 64}})
    assert cfg.model.options.use_embedding and cfg.model.options.encoder_lr_scale == 0.1
    with pytest.raises(ColorganError, match="multiple of 32"):
        config_from_dict({"model": {"generator": "lite_unet"}, "data": {"image_size": 40}})


def test_the_lite_unet_predicts_a_quarter_size_ab_and_classifies_it():
    import torch.nn.functional as F

    from colorgan.colour.bins import BINS, bin_centres
    from colorgan.models import LiteUNetGenerator
    from colorgan.models.lite_unet import annealed_mean

    l_norm = torch.rand(2, 1, 64, 96) * 2 - 1
    quarter = LiteUNetGenerator(0, 0, out_stride=4).eval()
    assert len(quarter.decoder) == 3  # the two widest stages are gone
    seen = {}
    quarter.to_ab.register_forward_hook(lambda m, i, o: seen.update(out=o))
    ab = quarter(l_norm)
    assert seen["out"].shape == (2, 2, 16, 24) and ab.shape == (2, 2, 64, 96)
    # the full-size ab is the quarter-size one upsampled bilinearly, nothing else
    assert torch.allclose(ab, F.interpolate(seen["out"], size=(64, 96), mode="bilinear"))
    cls = LiteUNetGenerator(0, 0, out_stride=4, head="classification", temperature=0.38)
    out = cls.train()(l_norm)
    assert out["logits"].shape == (2, BINS * BINS, 16, 24) and out["ab"].shape == (2, 2, 64, 96)
    assert torch.is_tensor(cls.eval()(l_norm))  # inference (and ONNX) sees ab alone
    # annealing: a distribution with two modes of 0.6 and 0.4 decodes near the larger one
    logits = torch.full((1, BINS * BINS, 1, 1), -30.0)
    logits[0, [100, 900]] = torch.tensor([0.6, 0.4]).log()[:, None, None]
    centres = bin_centres()
    mean = annealed_mean(logits, centres, 1.0)[0, :, 0, 0]
    sharp = annealed_mean(logits, centres, 0.38)[0, :, 0, 0]
    assert torch.allclose(mean, 0.6 * centres[100] + 0.4 * centres[900], atol=1e-5)
    w = torch.tensor([0.6, 0.4]) ** (1 / 0.38)
    w = w / w.sum()  # (0.74, 0.26): the larger mode's share grows
    assert torch.allclose(sharp, w[0] * centres[100] + w[1] * centres[900], atol=1e-5)


@pytest.mark.slow
def test_the_colour_query_head_reads_the_coarse_stages_and_exports(tmp_path):
    """head: queries (DDColor): the learnt queries attend to the decoder at 1/16, 1/8 and 1/4
    and every pixel's ab comes through them; the graph exports to ONNX and agrees with torch."""
    import numpy as np

    from colorgan.apps.cli import main
    from colorgan.engines.onnx_engine import OnnxEngine
    from colorgan.engines.torch_engine import TorchEngine
    from colorgan.models import LiteUNetGenerator
    from tests.conftest import write_generator

    g = LiteUNetGenerator(0, 0, out_stride=4, head="queries").eval()
    seen = {}
    g.to_ab.register_forward_hook(lambda m, i, o: seen.update(pixels=i[0], stages=i[1], out=o))
    l_norm = torch.rand(2, 1, 64, 96) * 2 - 1
    with torch.no_grad():
        ab = g(l_norm)
        assert ab.shape == (2, 2, 64, 96) and ab.abs().max() <= 1
        assert [s.shape[2:] for s in seen["stages"]] == [(4, 6), (8, 12), (16, 24)]
        assert seen["pixels"].shape[2:] == seen["out"].shape[2:] == (16, 24)
        g.to_ab.query.add_(torch.randn_like(g.to_ab.query))  # other queries, other colours
        assert (g(l_norm) - ab).abs().max() > 1e-3
    model = {
        "generator": "lite_unet",
        "lite_unet": {
            "use_embedding": False,
            "use_segmentation": False,
            "out_stride": 4,
            "head": "queries",
        },
    }
    generator = write_generator(tmp_path / "q.safetensors", model, image_size=64)
    assert main(["export", str(generator), "--onnx", "--out", str(tmp_path / "q.onnx")]) == 0
    onnx, engine = OnnxEngine(tmp_path / "q.onnx"), TorchEngine(generator, precision="fp32")
    grey = (torch.rand(3, 1, 64, 64) * 2 - 1).numpy()  # another batch size than exported
    assert np.abs(onnx.predict(grey, None) - engine.predict(grey, None)).max() < 1e-3
