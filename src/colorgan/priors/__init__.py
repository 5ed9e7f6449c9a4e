"""The frozen networks whose outputs a generator may take beside L: an image embedding and a
segmentation (semantic.SemanticPriors, over the backbones of backbones.py). The names configs
give them are here, so that reading a config imports no torch."""

EMBEDDINGS = ("efficientnet_lite0", "inception_resnet_v2")
SEGMENTATIONS = ("efficientnet_lite0_cam", "deeplabv3_resnet50")
