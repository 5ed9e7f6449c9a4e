"""Device and precision choice."""

from pathlib import Path

import pytest
import torch

from colorgan.base.errors import ColorganError
from colorgan.models.runtime import pick_device, resolve_precision


def test_auto_precision_on_the_cpu_is_fp32_unless_it_has_amx():
    """bf16 autocast measured slower than fp32 on every CPU without AMX (AVX2: many times;
    AVX512-BF16: 0.70x), so `auto` must not pick it there."""
    cpu = torch.device("cpu")
    amx = frozenset({"avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"})
    assert resolve_precision("auto", cpu, amx) == "bf16"
    for flags in ({"avx2"}, {"avx2", "avx512f", "avx512_bf16"}, set()):  # EPYC, Xeon w/o AMX
        assert resolve_precision("auto", cpu, frozenset(flags)) == "fp32"
    # this machine's own flags, read here apart from the code: bf16 exactly where it has AMX
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    here = {w for line in lines if line.startswith("flags") for w in line.split(":", 1)[1].split()}
    assert resolve_precision("auto", cpu) == ("bf16" if "amx_bf16" in here else "fp32")
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"  # asked for: given
    with pytest.raises(ColorganError, match="fp16 is for CUDA"):
        resolve_precision("fp16", torch.device("cpu"))


def test_a_device_that_is_not_here_is_a_user_error():
    if not torch.cuda.is_available():
        with pytest.raises(ColorganError, match="CUDA is not available"):
            pick_device("cuda")
    with pytest.raises(ColorganError, match="unknown device"):
        pick_device("toaster")
    assert pick_device("cpu").type == "cpu"
