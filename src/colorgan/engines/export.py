"""ONNX export of a generator file's whole inference model: the frozen priors and the
generator in one graph, for the onnx engine (onnx_engine.py), which runs it on ONNX Runtime
with numpy and no torch.

The graph takes the normalized L at the prediction size (`l`) and, where the model has
priors, the same L at the priors' size (`l_prior`); it returns the normalized ab at the
prediction size (`ab`). The batch is dynamic; the sizes are the model's. What the onnx
engine needs to know (sizes, the ab scale, the generator file's metadata) is in the model's
metadata under "colorgan". With `half`, weights that are fp16 values (a bundled generator's)
are stored as fp16, half their size and nothing lost (batch norms are left unfolded, so no
folded weight needs rounding); Runtime casts them back when it loads the model and computes
in fp32.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from colorgan.base.files import atomic_write_bytes
from colorgan.engines.torch_engine import TorchEngine
from colorgan.priors.semantic import generator_inputs
from colorgan.spec.hints import CHANNELS

OPSET = 17


class InferenceGraph(nn.Module):
    """Priors and generator as one module: the graph's inputs (`names`: l, and l_prior and
    hints where the model has them) -> ab."""

    def __init__(self, engine: TorchEngine) -> None:
        super().__init__()
        self.generator, self.priors, self.needs = engine.generator, engine.priors, engine.needs
        self.logits = self.priors is not None and self.priors.segmentation_is_logits
        spec = engine.spec
        self.names = ["l"] + ["l_prior"] * (spec.prior_size is not None) + ["hints"] * spec.hints

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        given = dict(zip(self.names, inputs, strict=True))
        l_norm = given["l"]
        native = {}
        if self.priors is not None:
            native = self.priors.on_l(given.get("l_prior", l_norm))
        x = generator_inputs(l_norm, native, self.needs, self.logits, hints=given.get("hints"))
        return self.generator(**x)


def export_onnx(
    weights: str | Path, target: Path, half: bool = True, overwrite: bool = False
) -> None:
    """Write the inference graph of the generator file `weights` to `target` (whole, or not
    at all; an existing file only with `overwrite`)."""
    import onnx

    engine = TorchEngine(weights, device="cpu", precision="fp32", channels_last=False)
    graph = InferenceGraph(engine).eval()
    spec = engine.spec
    size, p_size = spec.size, spec.prior_size
    names = graph.names
    shapes = {
        "l": (1, 1, size, size),
        "l_prior": (1, 1, p_size, p_size),
        "hints": (1, CHANNELS, size, size),
    }
    inputs = [torch.zeros(shapes[name]) for name in names]
    dynamic = {name: {0: "batch"} for name in names}
    buffer = io.BytesIO()
    # attention's fused inference kernel (the colour-query head's, under no_grad) has no ONNX
    # form; the exporter is given the plain ops instead
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it records as constants
            torch.onnx.export(
                graph,
                tuple(inputs),
                buffer,
                input_names=names,
                output_names=["ab"],
                dynamic_axes={**dynamic, "ab": {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=False,
                dynamo=False,
            )
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    model = onnx.load_from_string(buffer.getvalue())
    if half:
        _store_half(model)
    meta = {
        "size": size,
        "prior_size": p_size,
        "hints": spec.hints,
        "ab_scale": spec.ab_scale,
        "generator": spec.meta,
    }
    model.metadata_props.add(key="colorgan", value=json.dumps(meta))
    atomic_write_bytes(target, model.SerializeToString(), exclusive=not overwrite)


def _store_half(model) -> None:
    """The generator's fp32 weights stored as fp16, each cast back by a Cast node the runtime
    folds at load. Only where that loses nothing: weights that are fp16 values already (a
    bundled or `export --half` generator); the priors' ImageNet weights are not, and stay."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for init in model.graph.initializer:
        if init.data_type != TensorProto.FLOAT or np.prod(init.dims) < 1024:
            continue
        name, weights = init.name, numpy_helper.to_array(init)
        if not np.array_equal(weights.astype(np.float16).astype(np.float32), weights):
            continue
        init.CopyFrom(numpy_helper.from_array(weights.astype(np.float16), f"{name}__fp16"))
        casts.append(helper.make_node("Cast", [f"{name}__fp16"], [name], to=TensorProto.FLOAT))
    nodes = casts + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def export_damage_network(weights: Path, target: Path, overwrite: bool = False) -> None:
    """The restorer's network (models.damage.DamageNet, its weights a safetensors file) as one
    ONNX graph, grey (B, 1, H, W) -> out (B, 2, H, W), any H and W that are multiples of 16, for
    the light install (weights/damage.onnx is this file)."""
    import onnx
    from safetensors.torch import load_file

    from colorgan.models.damage import DamageNet

    net = DamageNet(pretrained=False).eval()
    net.load_state_dict(load_file(str(weights)))
    buffer = io.BytesIO()
    axes = {0: "batch", 2: "height", 3: "width"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.zeros(1, 1, 64, 64),),
            buffer,
            input_names=["grey"],
            output_names=["out"],
            dynamic_axes={"grey": axes, "out": axes},
            opset_version=OPSET,
            do_constant_folding=False,
            dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    _store_half(model)
    model.metadata_props.add(key="colorgan", value=json.dumps({"damage_network": 1}))
    atomic_write_bytes(target, model.SerializeToString(), exclusive=not overwrite)


def export_reference_encoder(target: Path, overwrite: bool = False) -> None:
    """The reference encoder (priors.reference) as one ONNX graph, l (B, 1, SIZE, SIZE) ->
    features, descriptor, for the light install (weights/reference.onnx is this file)."""
    import onnx

    from colorgan.priors.reference import ReferenceFeatures
    from colorgan.spec.references import SIZE

    encoder = ReferenceFeatures().eval()
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            encoder,
            (torch.zeros(1, 1, SIZE, SIZE),),
            buffer,
            input_names=["l"],
            output_names=["features", "descriptor"],
            dynamic_axes={"l": {0: "batch"}, "features": {0: "batch"}, "descriptor": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=False,  # unfolded batch norms keep the weights fp16 values
            dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    _store_half(model)
    model.metadata_props.add(key="colorgan", value=json.dumps({"reference_encoder": SIZE}))
    atomic_write_bytes(target, model.SerializeToString(), exclusive=not overwrite)
