"""The names configs give the frozen prior networks (`priors.embedding`,
`priors.segmentation`), and the side of the grey square every prior sees, apart from the
networks themselves (priors/) so that reading a config imports no torch."""

EMBEDDINGS = ("efficientnet_lite0", "inception_resnet_v2")
SEGMENTATIONS = ("efficientnet_lite0_cam", "deeplabv3_resnet50")
PRIOR_IMAGE_SIZE = 256  # every prior sees L as a grey image of this side, whatever G's size
