import numpy as np


def test_metrics_follow_the_protocol():
    from colorgan.colour.pixels import colourfulness
    from colorgan.evaluation.metrics import psnr, ssim

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + 5, 0, 255).astype(np.uint8)
    mse = ((a.astype(float) - b) ** 2).mean()
    assert abs(psnr(b, a) - 10 * np.log10(255**2 / mse)) < 1e-6
    assert ssim(a, a) == 1.0 and ssim(b, a) < 1.0
    grey = np.repeat(a[..., :1], 3, axis=2)
    assert colourfulness(grey) == 0.0 and colourfulness(a) > 10
