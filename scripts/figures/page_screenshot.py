"""docs/page.jpg: the page of `colorgan serve` after colorizing grey copies of the bundled
example photos, as headless chromium shows it.

Run: `.venv/bin/python scripts/figures/page_screenshot.py` (needs Debian's chromium, as the
page's test does). It serves the page in this process, on a free local port, and stops it
afterwards.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from colorgan.apps.page import build_page
from colorgan.apps.studio import Limits, Studio
from colorgan.base.files import atomic_write_bytes
from colorgan.pipeline.colorizer import Colorizer
from colorgan.spec.bundled import BUNDLED

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        studio = Studio(lambda name: Colorizer.open(name), list(BUNDLED), Limits(), Path(tmp))
        server = build_page(studio, "default").queue(default_concurrency_limit=1)
        _, url, _ = server.launch(
            prevent_thread_lock=True, quiet=True, allowed_paths=[tmp], footer_links=[]
        )
        uploads = []
        for name in PHOTOS:
            uploads.append(Path(tmp) / f"{name}.jpg")
            Image.open(ROOT / "examples" / f"{name}.jpg").convert("L").save(uploads[-1])
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.locator("#photos input[type=file]").set_input_files([str(u) for u in uploads])
        page.locator("#photos td.filename").nth(len(PHOTOS) - 1).wait_for()
        page.click("#colorize")
        page.locator("#status", has_text="Colorized").wait_for(timeout=120_000)
        time.sleep(1)  # the previews load
        shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        browser.close()
        server.close()
    encoded = io.BytesIO()
    shot.save(encoded, "JPEG", quality=85)
    atomic_write_bytes(ROOT / "docs" / "page.jpg", encoded.getvalue())
    print(f"wrote docs/page.jpg ({shot.size[0]}x{shot.size[1]})")


if __name__ == "__main__":
    main()
