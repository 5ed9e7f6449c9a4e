"""The reference bank: built from colour photos by the command (resumable, deduplicated,
selected), loaded with every value checked, and used by the command, the Python API and
alternatives: a grey photo takes the colours of the banked photos nearest to it, as far as a
learned trust in its manifest lets it where it holds one."""

import json
import logging
import shutil

import numpy as np
import pytest
from PIL import Image

from colorgan import ColorganError, Colorizer
from colorgan.apps.cli import main
from colorgan.pipeline import build_bank as builder
from colorgan.pipeline.bank import ARRAYS, DIMS, MANIFEST, SIDE, Bank, write_trust
from tests.conftest import make_photo
from tests.test_references import ab_of, is_magenta, scene


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder of colour photos: the magenta-patched scene, others, and a byte copy."""
    folder = tmp_path_factory.mktemp("colour")
    colour, _ = scene()
    colour.save(folder / "scene.png")
    for seed in range(5):
        make_photo(seed + 10, (200, 150)).save(folder / f"other{seed}.png")
    (folder / "copy.png").write_bytes((folder / "scene.png").read_bytes())
    return folder


@pytest.fixture(scope="module")
def bank_dir(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("bank") / "bank"
    assert main(["bank", "build", str(photos), "--out", str(out), "-q"]) == 0
    return out


@pytest.mark.slow
def test_a_bank_holds_each_photo_once_and_nothing_a_person_could_view(bank_dir):
    bank = Bank.load(bank_dir)
    manifest = json.loads((bank_dir / MANIFEST).read_text())
    assert len(bank) == manifest["photos"] == 6  # the byte copy kept once
    assert sorted(manifest["names"])[0] in ("copy.png", "other0.png")
    assert bank.features.shape == (6, DIMS, SIDE * SIDE) and bank.ab.shape == (6, 2, SIDE * SIDE)
    assert bank.features.dtype == np.float16
    norms = np.linalg.norm(bank.features.astype(np.float32), axis=1)
    assert np.allclose(norms, 1, atol=1e-2)  # unit features at every cell


@pytest.mark.slow
def test_a_grey_photo_takes_the_colours_of_its_nearest_banked_photos(bank_dir):
    colour, patch = scene()
    grey = colour.convert("L")
    colorizer = Colorizer()
    bank = Bank.load(bank_dir)
    assert not is_magenta(ab_of(colorizer.colorize(grey), patch))
    assert is_magenta(ab_of(colorizer.colorize(grey, bank=bank, bank_k=1), patch))
    [first, second] = colorizer.alternatives(grey, 2, bank=bank)
    assert is_magenta(ab_of(first, patch)) and not is_magenta(ab_of(second, patch))


@pytest.mark.slow
def test_the_command_takes_a_bank_and_writes_alternatives(bank_dir, tmp_path, capsys):
    colour, patch = scene()
    colour.convert("L").save(tmp_path / "grey.png")
    out = tmp_path / "out"
    base = ["colorize", str(tmp_path / "grey.png"), "--out", str(out), "-q"]
    assert main([*base, "--reference-bank", str(bank_dir), "--bank-k", "1"]) == 0
    assert is_magenta(ab_of(Image.open(out / "grey.png"), patch))
    assert main([*base, "--reference-bank", str(bank_dir), "--alternatives", "3"]) == 0
    made = sorted(p.name for p in out.iterdir())
    assert made == ["grey-alt1.png", "grey-alt2.png", "grey-alt3.png", "grey.png"]
    lab = [
        np.asarray(Image.open(out / f"grey-alt{i}.png").convert("RGB"), float) for i in (1, 2, 3)
    ]
    assert min(np.abs(a - b).mean() for a, b in [(lab[0], lab[1]), (lab[1], lab[2])]) > 1
    capsys.readouterr()
    for extra, words in [
        (["--alternatives", "2"], "alternatives come from references or a bank"),
        (["--reference-bank", str(tmp_path)], "no bank.npz in it"),
        (["--reference-bank", str(bank_dir), "--bank-k", "0"], "--bank-k: must be 1 to 8, not 0"),
    ]:
        assert main([*base, "--overwrite", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err


def test_a_damaged_bank_is_one_line(bank_dir, tmp_path):
    for name, damage in [
        ("format", lambda d: (d / MANIFEST).write_text('{"format": "x"}')),
        ("json", lambda d: (d / MANIFEST).write_text("[" * 100_000)),
        ("arrays", lambda d: (d / ARRAYS).write_bytes(b"not a zip")),
        (
            "shape",
            lambda d: np.savez(
                d / ARRAYS,
                descriptors=np.zeros((2, 4)),
                features=np.zeros((2, 3, 4)),
                ab=np.zeros((2, 2, 4)),
                projection=np.zeros((4, DIMS)),
            ),
        ),
        (
            "nan",
            lambda d: np.savez(
                d / ARRAYS,
                descriptors=np.full((1, 4), np.nan),
                features=np.zeros((1, DIMS, SIDE * SIDE)),
                ab=np.zeros((1, 2, SIDE * SIDE)),
                projection=np.zeros((4, DIMS)),
            ),
        ),
    ]:
        copy = tmp_path / name
        shutil.copytree(bank_dir, copy)
        damage(copy)
        with pytest.raises(ColorganError, match=str(copy)):
            Bank.load(copy)


@pytest.mark.slow
def test_a_stopped_build_goes_on_where_it_stopped(photos, tmp_path, monkeypatch):
    """Chunks written before a stop are not redone, and the bank is what one run makes."""
    colorizer = Colorizer()
    paths = sorted(photos.iterdir())
    monkeypatch.setattr(builder, "CHUNK", 2)
    whole = builder.build_bank(colorizer.engine.features, paths, tmp_path / "whole")
    calls = []
    sample_runs = -(-len(paths) // 2)  # every photo, two a run

    def failing(squares):
        calls.append(len(squares))
        if len(calls) > sample_runs + 2:  # the projection's sample, two chunks, then a stop
            raise KeyboardInterrupt
        return colorizer.engine.features(squares)

    with pytest.raises(KeyboardInterrupt):
        builder.build_bank(failing, paths, tmp_path / "resumed", batch=2)
    written = sorted((tmp_path / "resumed" / ".chunks").glob("*.npz"))
    assert len(written) == 2
    redone = []

    def counting(squares):
        redone.append(len(squares))
        return colorizer.engine.features(squares)

    again = builder.build_bank(counting, paths, tmp_path / "resumed", batch=2)
    assert sum(redone) == len(paths) - 4  # only the chunks not written yet
    assert len(redone) == -(-(len(paths) - 4) // 2)  # (the projection is not redone either)
    assert again == whole
    assert not (tmp_path / "resumed" / ".chunks").exists()


@pytest.mark.slow
def test_select_keeps_photos_spread_over_what_they_show(photos, tmp_path):
    out = tmp_path / "small"
    assert main(["bank", "build", str(photos), "--out", str(out), "--select", "3", "-q"]) == 0
    assert len(Bank.load(out)) == 3


@pytest.mark.slow
def test_more_alternatives_than_banked_photos_are_refused(bank_dir, tmp_path, capsys):
    """An alternative is one banked photo: a bank of 6 gives at most 6 (once, 8 gave two
    plain colorizations among them); the API and the command say so in one line."""
    from colorgan import Bank as Exported

    colour, _ = scene()
    grey = colour.convert("L")
    bank = Exported.load(bank_dir)
    with pytest.raises(ColorganError, match="alternatives: 7 alternatives need 7 references; 6"):
        Colorizer().alternatives(grey, 7, bank=bank)
    assert len(Colorizer().alternatives(grey, 6, bank=bank)) == 6
    grey.save(tmp_path / "g.png")
    argv = ["colorize", str(tmp_path / "g.png"), "--out", str(tmp_path / "out"), "-q"]
    assert main([*argv, "--reference-bank", str(bank_dir), "--alternatives", "7"]) == 2
    assert "--alternatives: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_stopped_build_of_other_photos_is_not_mixed_in(photos, tmp_path):
    colorizer = Colorizer()
    paths = sorted(photos.iterdir())
    (tmp_path / "b" / ".chunks").mkdir(parents=True)
    (tmp_path / "b" / ".chunks" / "plan.txt").write_text("another list\n")
    with pytest.raises(ColorganError, match="holds a stopped build of other photos"):
        builder.build_bank(colorizer.engine.features, paths, tmp_path / "b")


@pytest.mark.slow
def test_the_pages_points_recolour_the_photo_as_it_was_shown(bank_dir, tmp_path):
    """A photo coloured from the bank, or as one of its alternatives, keeps that colour when
    colour points re-colour it on the page (the points add to it, they do not replace it),
    for the photo picked in the gallery."""
    gr = pytest.importorskip("gradio")
    from colorgan.apps.page import _pick, _shown
    from colorgan.apps.page_points import PointEvents
    from colorgan.apps.studio import Limits, Studio

    colour, patch = scene()
    grey = tmp_path / "grey.png"
    colour.convert("L").save(grey)
    colorizer, work = Colorizer(), tmp_path / "w"
    work.mkdir()
    studio = Studio(lambda name: colorizer, ["default"], Limits(), work, Bank.load(bank_dir))
    events = PointEvents(studio, gr)
    for ways in (1, 2):
        settings = studio.settings(1.0, use_bank=True, alternatives=ways)
        outcome = studio.run([grey], "default", settings)
        *_, first, _, photos = _shown(gr, outcome, [], settings)
        for k, photo in enumerate(photos):
            assert _pick(outcome.previews, photos, k)[3] == photo
            result = events._recolour([], photo, "default", 1.0)[5][0]
            again = np.asarray(Image.open(result))
            assert np.array_equal(again, np.asarray(Image.open(outcome.photos[k])))
        assert first == photos[0] and is_magenta(ab_of(Image.open(outcome.photos[0]), patch))
    plain, _ = studio.recolour(grey, "default", studio.settings(1.0))
    assert not is_magenta(ab_of(Image.open(plain), patch))


def with_trust(bank_dir, tmp_path, weights) -> Bank:
    """A copy of the bank whose manifest holds `weights` as its learned trust."""
    copy = tmp_path / "bank"
    shutil.copytree(bank_dir, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    (copy / MANIFEST).write_text(json.dumps({**manifest, "trust": weights}))
    return Bank.load(copy)


def test_a_bank_with_a_trust_uses_it_in_place_of_the_ramp(bank_dir, tmp_path):
    colour, patch = scene()
    grey, colorizer = colour.convert("L"), Colorizer()
    trusting = with_trust(bank_dir, tmp_path / "a", [20.0, 0.0, 0.0, 0.0])
    distrusting = with_trust(bank_dir, tmp_path / "b", [-20.0, 0.0, 0.0, 0.0])
    assert trusting.trust == (20.0, 0.0, 0.0, 0.0)
    assert is_magenta(ab_of(colorizer.colorize(grey, bank=trusting, bank_k=1), patch))
    assert not is_magenta(ab_of(colorizer.colorize(grey, bank=distrusting, bank_k=1), patch))
    # alternatives trust each banked photo as a user's own: the gate does not apply
    [first] = colorizer.alternatives(grey, 1, bank=distrusting)
    assert is_magenta(ab_of(first, patch))


@pytest.mark.parametrize(
    "bad",
    [[1.0, 2.0], ["a", 0, 0, 0], [True, 0, 0, 0], "x", [10**400, 0, 0, 0], [2**64, 0, 0, 1e400]],
)
def test_a_bad_trust_in_a_manifest_is_one_line(bank_dir, tmp_path, bad):
    with pytest.raises(ColorganError, match="trust is not 4 finite numbers"):
        with_trust(bank_dir, tmp_path, bad)


@pytest.mark.slow
def test_colorize_warns_where_the_trust_was_fitted_for_another_model(bank_dir, tmp_path, capsys):
    """The trust is the model's (how far a banked colour beats its own): colouring with
    another model says so in one line, and colours all the same."""
    copy = tmp_path / "bank"
    shutil.copytree(bank_dir, copy)
    write_trust(copy, [-20.0, 0.0, 0.0, 0.0], "default")
    assert Bank.load(copy).trust_model == "default"
    colour, _ = scene()
    colour.convert("L").save(tmp_path / "grey.png")
    colorize = ["colorize", str(tmp_path / "grey.png"), "--reference-bank", str(copy), "-q"]
    for model, warned in (("default", False), ("paper", True)):
        out = ["--out", str(tmp_path / model), "--model", model]
        assert main([*colorize, *out]) == 0
        err = capsys.readouterr().err
        assert ("trust was fitted for another model" in err) == warned, err
        assert (tmp_path / model / "grey.png").is_file()


def _stopped_build(photos, out, monkeypatch) -> None:
    """A build of `photos` in chunks of 2, stopped after its first two chunks."""
    colorizer = Colorizer()
    paths = sorted(photos.iterdir())
    calls = []

    def failing(squares):
        calls.append(len(squares))
        if len(calls) > -(-len(paths) // 2) + 2:  # the projection's sample, two chunks
            raise KeyboardInterrupt
        return colorizer.engine.features(squares)

    with pytest.raises(KeyboardInterrupt):
        builder.build_bank(failing, paths, out, batch=2)


@pytest.mark.parametrize("damage", ["pickled", "wrong shape", "truncated", "a plain .npy"])
def test_a_damaged_chunk_of_a_stopped_build_is_one_line_naming_it(
    photos, tmp_path, monkeypatch, damage
):
    """A stopped build's chunk is read as a bank is, its headers checked first: one that is
    pickled, of another shape or cut short is named, and once removed it is built again."""
    monkeypatch.setattr(builder, "CHUNK", 2)
    paths = sorted(photos.iterdir())
    features = Colorizer().engine.features
    whole = builder.build_bank(features, paths, tmp_path / "whole")
    _stopped_build(photos, tmp_path / "resumed", monkeypatch)
    part = tmp_path / "resumed" / ".chunks" / "000000.npz"
    with np.load(part) as chunk:
        arrays = dict(chunk)
    if damage == "pickled":
        arrays["names"] = np.array([object(), object()], dtype=object)
        np.savez(part, **arrays)
    elif damage == "wrong shape":
        arrays["features"] = arrays["features"].reshape(2, DIMS // 2, -1)
        np.savez(part, **arrays)
    elif damage == "truncated":
        part.write_bytes(part.read_bytes()[:3000])
    else:
        np.save(open(part, "wb"), arrays["features"])
    with pytest.raises(
        ColorganError, match=r"000000.npz \(a chunk of a stopped build: remove it"
    ) as refused:
        builder.build_bank(features, paths, tmp_path / "resumed")
    assert len(str(refused.value).splitlines()) == 1
    part.unlink()
    assert builder.build_bank(features, paths, tmp_path / "resumed") == whole


def test_each_unreadable_photo_is_named_once(photos, tmp_path, caplog):
    folder = tmp_path / "some"
    folder.mkdir()
    for name in ("scene.png", "other0.png"):
        (folder / name).write_bytes((photos / name).read_bytes())
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not a photo")
    out = tmp_path / "bank"
    with caplog.at_level(logging.WARNING, logger="colorgan"):
        assert main(["bank", "build", str(folder), "--out", str(out), "-q"]) == 0
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "broken.jpg" in said[0], said
    assert len(Bank.load(out)) == 2


def test_a_bank_member_that_inflates_is_refused_on_its_header(bank_dir, tmp_path):
    """A bank.npz of a few hundred kB whose features member inflates to 200 MB and whose
    header claims ten times the manifest's photos: refused before any of it is read."""
    import shutil
    import tracemalloc
    import zipfile

    copy = tmp_path / "bomb"
    shutil.copytree(bank_dir, copy)
    with np.load(bank_dir / ARRAYS) as arrays:
        parts = dict(arrays)
    n = len(parts["features"])
    claimed = (n * 3000, DIMS, SIDE * SIDE)
    with zipfile.ZipFile(copy / ARRAYS, "w", zipfile.ZIP_DEFLATED) as npz:
        for key, value in parts.items():
            if key != "features":
                npz.writestr(f"{key}.npy", _npy(value))
        with npz.open("features.npy", "w", force_zip64=True) as member:
            member.write(_npy_header(claimed))
            zeros = bytes(1 << 24)
            for _ in range(12):
                member.write(zeros)
    assert (copy / ARRAYS).stat().st_size < 2_000_000
    tracemalloc.start()
    with pytest.raises(ColorganError, match=r"its features are float16 \(18000, 48, 256\)"):
        Bank.load(copy)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000


def _npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npy_header(shape: tuple[int, ...]) -> bytes:
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f2", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()
