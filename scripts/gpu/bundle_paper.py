"""Make the H100 run's generator the bundled model.

The device run loaded EfficientNet-Lite0 from the fp16 copy it carried
(.gpu/efficientnet_lite0_fp16.safetensors); the bundled file must use the pip package's
weights instead, which is all this changes in the file's metadata.
Usage: python scripts/gpu/bundle_paper.py RUN_EXPORT.safetensors OUT.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path

from colorgan.models.file import read_generator_file, write_generator_file


def main(src: str, dst: str) -> int:
    tensors, meta = read_generator_file(src)
    meta["priors"]["embedding_weights"] = None
    meta["priors"]["cache"] = True
    meta["name"] = "default"
    write_generator_file(Path(dst), tensors, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
