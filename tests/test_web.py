"""`colorgan serve`: the page's work (Studio), and the page itself driven in a real browser."""

import os
import shutil
import signal
import socket
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from colorgan.apps.cli import main
from colorgan.apps.web import KEEP_SECONDS, Limits, Studio
from colorgan.engines.onnx_engine import OnnxEngine
from colorgan.pipeline.colorizer import Colorizer
from tests.conftest import WITHOUT_TORCH, make_clip, make_photo, start_server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def frames_of(video: Path) -> list[Image.Image]:
    import av

    with av.open(str(video)) as f:
        return [frame.to_image() for frame in f.decode(f.streams.video[0])]


def chroma(image: Image.Image) -> float:
    """Mean distance of Cb and Cr from neutral: 0 for a grey picture."""
    ycbcr = np.asarray(image.convert("YCbCr"), np.float64)
    return float(np.abs(ycbcr[..., 1:] - 128).mean())


def lightness_gap(result: Image.Image, grey: Image.Image) -> float:
    """Mean |difference| of the result's grey levels and the input's, in 0..255."""
    a = np.asarray(result.convert("L"), np.float64)
    return float(np.abs(a - np.asarray(grey.convert("L"), np.float64)).mean())


@pytest.fixture
def uploads(tmp_path: Path) -> dict[str, Path]:
    """Files as a browser would upload them: grey photos, a text file, a huge flat PNG."""
    files = {}
    for name in ("chelsea", "coffee"):
        files[name] = tmp_path / f"{name}.jpg"
        Image.open(EXAMPLES / f"{name}.jpg").convert("L").save(files[name], quality=95)
    (tmp_path / "other").mkdir()
    files["same name"] = tmp_path / "other" / "chelsea.jpg"
    Image.open(EXAMPLES / "rocket.jpg").convert("L").save(files["same name"])
    (tmp_path / "other" / "readme.txt").write_text("a folder holds more than photos")
    files["text"] = tmp_path / "notes.txt"
    files["text"].write_text("not a photo")
    files["many pixels"] = tmp_path / "scan.png"
    Image.new("L", (3000, 2000), 128).save(files["many pixels"])  # 6 MP in a few kB
    files["film"] = tmp_path / "film.mp4"
    make_clip(files["film"], audio=False)  # 24 grey frames of 160x120
    files["dotfile"] = tmp_path / "._IMG_0001.jpg"  # macOS's AppleDouble beside a photo
    files["dotfile"].write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    files["heavy"] = tmp_path / "noise.png"
    noise = np.random.default_rng(0).integers(0, 256, (800, 800, 3), np.uint8)
    Image.fromarray(noise).save(files["heavy"])  # about 1.8 MB
    return files


@pytest.fixture(scope="module")
def light() -> Colorizer:
    return Colorizer(OnnxEngine())


@pytest.mark.film
def test_limits_refuse_by_bytes_pixels_and_kind(uploads):
    limits = Limits(megabytes=1, megapixels=5)
    assert limits.refusal(uploads["chelsea"]) is None
    assert "not a photo or film colorgan can read" in limits.refusal(uploads["text"])
    assert "(6 MP) is over the 5 MP limit" in limits.refusal(uploads["many pixels"])
    assert "is over the 1 MB limit" in limits.refusal(uploads["heavy"])
    assert Limits().refusal(uploads["many pixels"]) is None  # defaults: 50 MB, 100 MP
    # a film's frames count against the pixel limit too (160 x 120 = 0.0192 MP)
    assert Limits(megapixels=0.02).refusal(uploads["film"], video=True) is None
    assert "over the 0.01 MP limit" in Limits(megapixels=0.01).refusal(uploads["film"], True)
    assert "not a film" in Limits().refusal(uploads["text"], video=True)


@pytest.mark.film
def test_a_request_colours_what_it_can_and_says_why_not_for_the_rest(uploads, light, tmp_path):
    studio = Studio(lambda name: light, ["default"], Limits(1, 5), tmp_path / "work")
    (tmp_path / "work").mkdir()
    sent = [uploads[k] for k in ("chelsea", "text", "many pixels", "same name", "heavy", "film")]
    outcome = studio.run(sent, "default", studio.settings(1.0))
    assert outcome.message.startswith("Colorized 3 of 6 file(s).")
    [video] = outcome.videos
    assert video.name == "film-colorized.mp4" and len(frames_of(video)) == 24
    for name in ("notes.txt: not a photo or film", "scan.png: 3000x2000", "noise.png: 1.8 MB"):
        assert f"Refused {name}" in outcome.message
    # two uploads named chelsea.jpg: two results, neither overwritten
    assert [p.name for p in outcome.photos] == ["chelsea-colorized.jpg", "chelsea-colorized-2.jpg"]
    for result, source in zip(outcome.photos, [sent[0], sent[3]], strict=True):
        with Image.open(result) as out, Image.open(source) as grey:
            assert out.size == grey.size and out.mode == "RGB"
            assert chroma(out) > 0.5 and lightness_gap(out, grey) < 1.5  # grey is 0
    with zipfile.ZipFile(outcome.archive) as archive:
        names = [p.name for p in outcome.photos + outcome.videos]
        assert sorted(archive.namelist()) == sorted(names)
        assert archive.read("chelsea-colorized.jpg") == outcome.photos[0].read_bytes()
    for grey, colour in outcome.previews:
        assert Image.open(grey).mode == "L" and max(Image.open(colour).size) <= 1600
    # the next request writes a folder of its own, and colour intensity 0 gives grey
    again = studio.run([uploads["chelsea"]], "default", studio.settings(0.0))
    assert again.photos[0].parent != outcome.photos[0].parent
    assert outcome.photos[0].is_file() and chroma(Image.open(again.photos[0])) < 0.5
    settings = studio.settings(1.0)
    assert "no model 'paper' here" in _error(studio.run, [uploads["chelsea"]], "paper", settings)
    assert "saturation: must be in" in _error(studio.settings, 9)


@pytest.mark.film
def test_photos_that_share_a_name_keep_previews_of_their_own(uploads, light, tmp_path):
    png = tmp_path / "chelsea.png"
    Image.open(EXAMPLES / "coffee.jpg").convert("L").save(png)  # another photo, one stem
    studio = Studio(lambda name: light, ["default"], Limits(), tmp_path)
    outcome = studio.run([uploads["chelsea"], png], "default", studio.settings(1.0))
    assert [p.name for p in outcome.photos] == ["chelsea-colorized.jpg", "chelsea-colorized.png"]
    for (_, preview), result in zip(outcome.previews, outcome.photos, strict=True):
        assert Image.open(preview).size == Image.open(result).size  # each its own photo's


@pytest.mark.film
def test_folders_of_old_requests_are_removed(uploads, light, tmp_path):
    studio = Studio(lambda name: light, ["default"], Limits(), tmp_path)
    old = studio.run([uploads["chelsea"]], "default", studio.settings(1.0)).photos[0].parents[1]
    past = time.time() - KEEP_SECONDS - 60
    os.utime(old, (past, past))
    studio.run([uploads["coffee"]], "default", studio.settings(1.0))
    assert not old.exists() and len(list(tmp_path.glob("request-*"))) == 1


def test_serve_refuses_bad_limits_a_bad_model_and_a_taken_port_in_one_line(tmp_path, capsys):
    assert main(["serve", "--max-megabytes", "0"]) == 2
    bad = tmp_path / "bad.onnx"
    bad.write_text("no model")
    assert main(["serve", "-w", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "colorgan: error: --max-megabytes and --max-megapixels must be positive"
    assert err[1].startswith(f"colorgan: error: {bad}: not a readable ONNX model")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert capsys.readouterr().err.startswith(f"colorgan: error: cannot listen on 127.0.0.1:{port}")


def _error(call, *args) -> str:
    from colorgan.base.errors import ColorganError

    with pytest.raises(ColorganError) as caught:
        call(*args)
    return str(caught.value)


# ---- the page in a real browser -----------------------------------------------------------


def chromium() -> str:
    """Debian's chromium (`make test` installs it); the test fails rather than skips where
    COLORGAN_BROWSER_REQUIRED is set, as it is in `make test`, so CI never skips it."""
    found = os.environ.get("COLORGAN_CHROMIUM") or shutil.which("chromium")
    if found is None:
        message = "no chromium: apt-get install chromium (make test installs it)"
        if os.environ.get("COLORGAN_BROWSER_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`colorgan serve` in its own process, with small limits and torch unimportable (as
    after `pip install '.[web]'`): its address. Stopped with `kill`, it leaves nothing
    in its temporary folder."""
    scratch = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "TMPDIR": str(scratch), "GRADIO_TEMP_DIR": str(scratch / "gradio")}
    try:
        limits = ("--max-megabytes", "1", "--max-megapixels", "5")
        python = [sys.executable, "-c", WITHOUT_TORCH]
        process, url = start_server(python, *limits, log=scratch / "log", env=env)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    assert not list(scratch.glob("colorgan-serve-*"))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield instance
        instance.close()


def open_page(browser, url: str):
    page = browser.new_page(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("#colorize")
    return page


def send(page, files: list[Path]) -> None:
    """Choose files in the Photos box and wait until each shows as uploaded."""
    page.locator("#photos input[type=file]").set_input_files([str(f) for f in files])
    for f in files:
        page.locator(f"#photos td.filename[aria-label='{f.name}']").wait_for(timeout=30_000)


def status(page, expected: str) -> str:
    """The status line once it says `expected`."""
    page.locator("#status", has_text=expected).wait_for(timeout=60_000)
    return page.inner_text("#status")


def click_at(image, fx: float, fy: float) -> None:
    """A click on `image` at the fractions (fx, fy) of its width and height, scrolled into
    view first (a picker or the status line may have scrolled the page past it)."""
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    image.page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def download(page, name: str, folder: Path) -> Path:
    with page.expect_download() as caught:
        page.locator(f"#downloads a[download='{name}']").click()
    target = folder / f"{id(page)}-{name}"
    caught.value.save_as(target)
    return target


@pytest.mark.film
@pytest.mark.subprocess
@pytest.mark.browser
def test_a_browser_session_sends_nothing_beyond_this_machine(server, browser, uploads, tmp_path):
    """Every request the page makes while it loads, colours a photo and re-colours it with a
    point goes to the server on 127.0.0.1 (or stays in the browser: data: and blob: URLs):
    no fonts, analytics or version checks from elsewhere."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(server)
    page.wait_for_selector("#colorize")
    send(page, [uploads["chelsea"]])
    page.click("#colorize")
    status(page, "Colorized 1 of 1 file(s).")
    page.get_by_role("tab", name="Side by side").click()
    grey = page.locator("#side img").first
    grey.wait_for(timeout=30_000)
    click_at(grey, 0.3, 0.5)
    status(page, "Re-coloured with 1 colour point(s).")
    page.close()
    assert len(seen) > 10  # the page and its scripts, the upload, the queue's events
    outside = [
        url
        for url in seen
        if urlparse(url).scheme not in ("data", "blob") and urlparse(url).hostname != "127.0.0.1"
    ]
    assert not outside, outside


@pytest.mark.film
@pytest.mark.subprocess
@pytest.mark.browser
def test_the_page_colours_uploads_and_refuses_bad_ones(server, browser, uploads, tmp_path):
    page = open_page(browser, server)
    send(page, [uploads["chelsea"]])
    page.click("#colorize")
    status(page, "Colorized 1 of 1 file(s).")
    result = Image.open(download(page, "chelsea-colorized.jpg", tmp_path))
    grey = Image.open(uploads["chelsea"])
    assert result.size == grey.size and result.mode == "RGB"
    assert chroma(result) > 3 and lightness_gap(result, grey) < 1.5

    page.reload()  # a film: played in the page's Video tab, downloaded as H.264 MP4
    page.wait_for_selector("#colorize")
    send(page, [uploads["film"]])
    page.click("#colorize")
    status(page, "Colorized 1 of 1 file(s).")
    page.locator("#video video[src$='/film-colorized.mp4']").wait_for(timeout=30_000)
    frames = frames_of(download(page, "film-colorized.mp4", tmp_path))
    assert len(frames) == 24 and frames[0].size == (160, 120) and chroma(frames[12]) > 1

    page.reload()
    page.wait_for_selector("#colorize")
    send(page, [uploads["text"], uploads["many pixels"]])
    page.click("#colorize")
    message = status(page, "Colorized 0 of 2 file(s).")
    assert "notes.txt: not a photo or film colorgan can read" in message
    assert "scan.png: 3000x2000 (6 MP) is over the 5 MP limit" in message

    page.reload()  # one bad file among good ones fails only itself
    page.wait_for_selector("#colorize")
    send(page, [uploads["coffee"], uploads["dotfile"]])
    page.click("#colorize")
    message = status(page, "Colorized 1 of 2 file(s).")
    assert "._IMG_0001.jpg: not a photo or film colorgan can read" in message
    assert Image.open(download(page, "coffee-colorized.jpg", tmp_path)).size == (
        Image.open(uploads["coffee"]).size
    )

    page.reload()
    page.wait_for_selector("#colorize")
    page.locator("#photos input[type=file]").set_input_files(str(uploads["heavy"]))
    toast = page.get_by_text("exceed the maximum allowed size")
    toast.wait_for(timeout=30_000)
    assert "noise.png" in toast.inner_text()


@pytest.mark.film
@pytest.mark.subprocess
@pytest.mark.browser
def test_concurrent_pages_each_get_their_own_results_and_a_zip(server, browser, uploads, tmp_path):
    first, second = open_page(browser, server), open_page(browser, server)
    send(first, [uploads["chelsea"], uploads["coffee"]])
    second.get_by_role("tab", name="A folder").click()  # a folder: photos and a text file
    second.locator("#folder input[type=file]").set_input_files(str(uploads["same name"].parent))
    second.locator("#folder td.filename[aria-label='chelsea.jpg']").wait_for(timeout=30_000)
    first.click("#colorize")
    second.click("#colorize")  # queued behind the first
    status(first, "Colorized 2 of 2 file(s).")
    assert "Skipped 1 file(s) of the folder" in status(second, "Colorized 1 of 1 file(s).")
    # choosing a result shows it in the slider
    first.locator("#gallery button[aria-label='Thumbnail 2 of 2']").click()
    first.locator("#slider img[src$='/coffee-colorized.jpg']").wait_for(timeout=30_000)
    with zipfile.ZipFile(download(first, "colorgan-2-files.zip", tmp_path)) as archive:
        assert sorted(archive.namelist()) == ["chelsea-colorized.jpg", "coffee-colorized.jpg"]
        archive.extractall(tmp_path / "zip")
    theirs = Image.open(download(second, "chelsea-colorized.jpg", tmp_path))
    pairs = [
        (tmp_path / "zip" / "chelsea-colorized.jpg", uploads["chelsea"]),
        (tmp_path / "zip" / "coffee-colorized.jpg", uploads["coffee"]),
    ]
    for result, source in pairs:
        assert lightness_gap(Image.open(result), Image.open(source)) < 1.5
    assert lightness_gap(theirs, Image.open(uploads["same name"])) < 1.5


@pytest.mark.subprocess
@pytest.mark.browser
@pytest.mark.film
def test_stopping_the_server_mid_request_leaves_no_visitors_file(browser, tmp_path):
    """SIGTERM while a film is being coloured: every upload, result and copy Gradio made is
    gone with the server (its temporary files live in the server's own folder)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    env["TMPDIR"] = str(scratch)
    film = tmp_path / "long.mp4"
    make_clip(film, frames=240, audio=False)
    process, url = start_server(
        [sys.executable, "-c", WITHOUT_TORCH], log=tmp_path / "log", env=env
    )
    try:
        page = open_page(browser, url)
        send(page, [film])
        assert list(scratch.rglob("long.mp4"))  # the upload is on disk
        page.click("#colorize")
        deadline = time.time() + 60
        while not list(scratch.glob("colorgan-serve-*/request-*/colour")):  # colouring now
            assert time.time() < deadline, "the request did not start"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
    left = [p for p in scratch.rglob("*") if p.is_file() and p.name != ".ses"]  # ORT's own id
    assert not left, left


@pytest.mark.subprocess
@pytest.mark.browser
def test_a_colour_point_clicked_on_the_grey_photo_colours_its_region_only(
    server, browser, uploads, tmp_path
):
    """Click the grey photo's left half with green picked: the result is green under the
    click, and the far right of the photo keeps its colour; the points save as --hints."""
    from skimage.color import rgb2lab

    assert OnnxEngine().spec.hints  # the served model is the bundled default, which takes hints

    page = open_page(browser, server)
    send(page, [uploads["chelsea"]])
    page.click("#colorize")
    status(page, "Colorized 1 of 1 file(s).")
    before = rgb2lab(np.asarray(Image.open(download(page, "chelsea-colorized.jpg", tmp_path))))
    page.get_by_role("tab", name="Side by side").click()
    page.click("#hint-colour button.dialog-button")
    page.fill("#hint-colour .input-wrap input", "#10b010")
    page.keyboard.press("Enter")
    page.click("#status")  # the picker closes
    grey = page.locator("#side img").first
    grey.wait_for(timeout=30_000)
    click_at(grey, 0.2, 0.5)
    status(page, "Re-coloured with 1 colour point(s).")
    after = rgb2lab(np.asarray(Image.open(download(page, "chelsea-colorized.jpg", tmp_path))))
    h, w = after.shape[:2]
    y, x = h // 2, int(w * 0.2)
    near = (
        after[y - 5 : y + 6, x - 5 : x + 6, 1].mean()
        - before[y - 5 : y + 6, x - 5 : x + 6, 1].mean()
    )
    assert after[y, x, 1] < -10 and near < -10  # green: a well below 0, and below before
    far = np.abs(after[:, int(w * 0.9) :, 1:] - before[:, int(w * 0.9) :, 1:]).mean()
    assert far < 3, far
    saved = download(page, "chelsea-points.json", tmp_path)
    from colorgan.apps.points import read_points

    [point] = read_points(saved)["chelsea.jpg"]
    assert point.color == "#10b010" and abs(point.x - x) < 0.05 * w and abs(point.y - y) < 0.05 * h


@pytest.mark.subprocess
@pytest.mark.browser
def test_clicks_made_while_a_recolour_runs_are_all_kept(server, browser, tmp_path):
    """Four points clicked 0.3 s apart on a 4.4 MP photo, each while the one before is still
    re-colouring, and a second page clicking at the same time: every click of each page ends
    up in its table, its saved points and its result."""
    big = tmp_path / "wide.jpg"
    Image.open(EXAMPLES / "coffee.jpg").convert("L").resize((2560, 1707)).save(big, quality=70)
    pages = [open_page(browser, server) for _ in range(2)]
    for page in pages:
        send(page, [big])
        page.click("#colorize")
        status(page, "Colorized 1 of 1 file(s).")
        page.get_by_role("tab", name="Side by side").click()
    for k in range(4):
        for page in pages:
            grey = page.locator("#side img").first
            click_at(grey, 0.15 + 0.2 * k, 0.5)
        time.sleep(0.3)
    for page in pages:
        page.locator("#status", has_text="Re-coloured with 4 colour point(s).").wait_for(
            timeout=180_000
        )
        saved = download(page, "wide-points.json", tmp_path)
        from colorgan.apps.points import read_points

        points = read_points(saved)["wide.jpg"]
        xs = sorted(point.x for point in points)
        assert len(points) == 4 and all(b - a > 300 for a, b in zip(xs, xs[1:], strict=False))
        table = page.inner_text("#points")
        assert all(f"{round(x)}" in table for x in xs), table


@pytest.mark.film
@pytest.mark.subprocess
@pytest.mark.browser
def test_a_bad_points_file_is_named_as_the_visitor_named_it(server, browser, uploads, tmp_path):
    page = open_page(browser, server)
    send(page, [uploads["chelsea"]])
    page.click("#colorize")
    status(page, "Colorized 1 of 1 file(s).")
    bad = tmp_path / "points_malformed.json"
    bad.write_text("[" * 100_000 + "]" * 100_000)
    with page.expect_file_chooser() as chooser:
        page.click("#load-points")
    chooser.value.set_files(str(bad))
    text = status(page, "points_malformed.json")
    assert "nested too deeply" in text and "the points file" in text
    assert "/" not in text and "--hints" not in text and "gradio" not in text, text


@pytest.mark.subprocess
@pytest.mark.browser
def test_a_reference_dropped_beside_the_photo_gives_the_colour_only_it_knows(
    server, browser, tmp_path
):
    """The grey photo of a scene whose striped patch is magenta, and the colour scene
    mirrored as a reference: the downloaded result's patch is magenta, which no model guesses
    from the grey alone."""
    from tests.test_references import ab_of, is_magenta, scene

    colour, patch = scene()
    grey = tmp_path / "scene.png"
    colour.convert("L").save(grey)
    reference = tmp_path / "mirrored.jpg"
    colour.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(reference, quality=95)
    page = open_page(browser, server)
    send(page, [grey])
    page.locator("#references input[type=file]").set_input_files([str(reference)])
    page.locator("#references td.filename[aria-label='mirrored.jpg']").wait_for(timeout=30_000)
    page.click("#colorize")
    status(page, "Colorized 1 of 1 file(s).")
    result = Image.open(download(page, "scene-colorized.png", tmp_path))
    assert is_magenta(ab_of(result, patch)), ab_of(result, patch)


@pytest.mark.subprocess
@pytest.mark.browser
def test_alternatives_are_shown_side_by_side_and_one_is_picked_and_downloaded(
    server, browser, tmp_path
):
    """Two reference photos and two alternatives: the gallery shows both ways; the visitor
    picks the second to compare and downloads it: it took the second reference's colours,
    and the first way the first's (the magenta patch only the first knows)."""
    from tests.test_references import ab_of, is_magenta, scene

    colour, patch = scene()
    grey = tmp_path / "scene.png"
    colour.convert("L").save(grey)
    first, second = tmp_path / "mirrored.jpg", tmp_path / "other.jpg"
    colour.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(first, quality=95)
    make_photo(21, (320, 240)).save(second, quality=95)
    page = open_page(browser, server)
    send(page, [grey])
    page.locator("#references input[type=file]").set_input_files([str(first), str(second)])
    page.locator("#references td.filename[aria-label='other.jpg']").wait_for(timeout=30_000)
    page.fill("#alternatives input[type=number]", "2")
    page.keyboard.press("Enter")
    page.click("#colorize")
    status(page, "2 ways each: 2 results.")
    assert page.locator("#gallery .thumbnail-item").count() == 2
    page.locator("#gallery .thumbnail-item").nth(1).click()  # the second way, to compare
    page.locator("#slider img[src$='scene-colorized-alt2.jpg']").wait_for(timeout=30_000)
    picked = Image.open(download(page, "scene-colorized-alt2.png", tmp_path))
    other_way = Image.open(download(page, "scene-colorized-alt1.png", tmp_path))
    assert is_magenta(ab_of(other_way, patch)) and not is_magenta(ab_of(picked, patch))


@pytest.mark.film
@pytest.mark.subprocess
@pytest.mark.browser
def test_the_repair_option_restores_an_old_print_before_its_colour(server, browser, tmp_path):
    """Ticking "Repair scratches and dust" on the page: the photo's drawn scratches and dust
    are filled before it is coloured (its lightness near the clean photo's), unticked not."""
    from colorgan.colour.pixels import lightness_grey
    from tests.test_restore import psnr, scratched

    clean = Image.open(EXAMPLES / "camera.jpg").convert("L")
    damaged, _ = scratched(clean)
    damaged.save(tmp_path / "old.png")
    results = {}
    for ticked in (False, True):
        page = open_page(browser, server)
        send(page, [tmp_path / "old.png"])
        if ticked:
            page.get_by_label("Repair scratches and dust (old prints), then colour").check()
        page.click("#colorize")
        status(page, "Colorized 1 of 1 file(s).")
        result = Image.open(download(page, "old-colorized.png", tmp_path)).convert("RGB")
        results[ticked] = psnr(lightness_grey(result), clean)
        page.close()
    assert results[False] < psnr(damaged, clean) + 1  # the scratches kept
    assert results[True] > psnr(damaged, clean) + 6, results
