"""Scoring colorizers the field's way: PSNR, SSIM, colourfulness, the colour cast, FID and
KID at 256 x 256 (evaluate, metrics, fid), and whole comparisons of recipes (experiment)."""
