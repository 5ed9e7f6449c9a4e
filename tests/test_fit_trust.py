"""Study 27's fit of a bank's trust (scripts/research: trust_evidence, trust_gate, fit_trust):
the gate is fitted to what the bank really returns for training photos, never the photo
itself, resumably, and written into the bank; what it is given wrong is one line."""

import pickle
import shutil

import numpy as np
import pytest
import torch

from colorgan import ColorganError, Colorizer
from colorgan.apps.cli import main as colorgan
from colorgan.pipeline import reference
from colorgan.pipeline.bank import HIGH, LOW, Bank, write_trust
from scripts.research import trust_evidence, trust_gate
from scripts.research.fit_trust import main
from tests.conftest import small_config
from tests.test_bank import bank_dir, photos  # noqa: F401 - the fixtures


@pytest.fixture
def bank_copy(bank_dir, tmp_path):  # noqa: F811
    """A bank of its own for each test: a fit writes into its folder."""
    copy = tmp_path / "bank"
    shutil.copytree(bank_dir, copy)
    return copy


def test_the_fit_finds_the_gate_that_separates_right_references_from_wrong():
    """Evidence where a reference is right wherever its similarity is high and wrong where it
    is low: the fitted gate trusts the first and not the second."""
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 1, (40, 64))
    true = rng.normal(0, 0.2, (40, 64, 2))
    wrong = rng.normal(0, 0.4, (40, 64, 2))
    ref = np.where((s > 0.6)[..., None], true, wrong)
    evidence = {
        "inputs": reference.gate_inputs(s, 0.5).astype(np.float32),
        "ref": ref.astype(np.float32),
        "model": np.zeros_like(ref, np.float32),
        "true": true.astype(np.float32),
    }
    weights = trust_gate.fit(evidence)
    confidence = torch.sigmoid(
        torch.from_numpy(evidence["inputs"]).double() @ torch.tensor(weights)
    )
    assert confidence[torch.from_numpy(s > 0.7)].mean() > 0.8
    assert confidence[torch.from_numpy(s < 0.5)].mean() < 0.2


@pytest.mark.slow
def test_fit_trust_learns_from_retrievals_never_the_photo_itself(photos, bank_copy):  # noqa: F811
    bank, colorizer = Bank.load(bank_copy), Colorizer()
    paths = sorted(photos.glob("*.png"))
    evidence = trust_evidence.gather(colorizer, bank_copy, paths, "default")
    result = trust_gate.fit_and_report(evidence, LOW, HIGH)
    write_trust(bank_copy, result["weights"], "default")
    assert Bank.load(bank_copy).trust == tuple(result["weights"])
    assert result["held_out_error"]["self"]["learned"] < result["held_out_error"]["self"]["model"]
    confidence = 1 / (1 + np.exp(-(evidence["inputs"] @ np.array(result["weights"]))))
    kinds = evidence["kind"][:, 0]
    assert confidence[kinds == 1].mean() > confidence[kinds == 2].mean() + 0.2  # self, unrelated
    # the retrieved reference is never the photo, nor its byte copy
    hashes = bank.manifest["hashes"]
    for path in paths:
        digest, rgb = trust_evidence._read(path)
        square = reference.lightness_square(rgb)[None, None]
        local, descriptors = colorizer.engine.features(square)
        rng = np.random.default_rng(0)
        found = trust_evidence._references(bank, digest, rgb, local[0], descriptors[0], rng)[0]
        same = [i for i, h in enumerate(hashes) if h == digest]
        assert not any(np.array_equal(found.ab, bank.ab[i].astype(np.float32)) for i in same)
    # resumed: the evidence is not collected again; other photos are refused in one line
    chunks = sorted((bank_copy / ".trust").glob("*.npz"))
    stamps = [p.stat().st_mtime_ns for p in chunks]
    again = trust_evidence.gather(colorizer, bank_copy, paths, "default")
    assert [p.stat().st_mtime_ns for p in chunks] == stamps
    assert all(np.array_equal(again[k], evidence[k]) for k in evidence)
    for model, some in (("default", paths[:-1]), ("paper", paths)):
        with pytest.raises(ColorganError, match="evidence of another model, bank or photos"):
            trust_evidence.gather(colorizer, bank_copy, some, model)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: np.savez(path, inputs=np.array([{"run": "code"}], dtype=object)),
        lambda path: path.write_bytes(pickle.dumps({"inputs": [1, 2]})),
        lambda path: path.write_bytes(b"PK\x03\x04 not a whole zip"),
    ],
    ids=["object-array", "pickle", "torn-zip"],
)
@pytest.mark.slow
def test_a_chunk_this_fit_did_not_write_is_refused_in_one_line(photos, bank_copy, damage):  # noqa: F811
    """A chunk under .trust/ that holds a pickle (code it would run) or is not an archive is
    never loaded: one line naming it, and what to do."""
    paths, colorizer = sorted(photos.glob("*.png")), Colorizer()
    trust_evidence.gather(colorizer, bank_copy, paths, "default")
    chunk = bank_copy / ".trust" / "000000.npz"
    damage(chunk)
    with pytest.raises(ColorganError, match="is not evidence this fit wrote") as caught:
        trust_evidence.gather(colorizer, bank_copy, paths, "default")
    assert "\n" not in str(caught.value) and "remove" in str(caught.value)


@pytest.mark.slow
def test_unreadable_photos_are_read_again_once_repaired(photos, bank_copy, tmp_path, capsys):  # noqa: F811
    """A photo that cannot be read is left out with one line saying so, and its chunk is not
    kept: repaired, it is read on the next run; where none can be read, the error says to
    repair them, and leaves nothing that would stop the next run."""
    originals = sorted(photos.glob("*.png"))
    folder = tmp_path / "mine"
    folder.mkdir()
    paths = [folder / p.name for p in originals]
    colorizer = Colorizer()
    for path in paths:
        path.write_bytes(b"not a photo")
    with pytest.raises(ColorganError, match="could not be read.*repair or replace them"):
        trust_evidence.gather(colorizer, bank_copy, paths, "default")
    assert not list((bank_copy / ".trust").glob("*.npz"))
    for path, original in zip(paths[1:], originals[1:], strict=True):
        shutil.copy(original, path)  # all but the first repaired
    capsys.readouterr()
    some = trust_evidence.gather(colorizer, bank_copy, paths, "default")
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and f"1 of the {len(paths)} photos could not be read" in warning[0]
    shutil.copy(originals[0], paths[0])
    every = trust_evidence.gather(colorizer, bank_copy, paths, "default")
    assert len(every["kind"]) > len(some["kind"]) and not capsys.readouterr().err
    assert list((bank_copy / ".trust").glob("*.npz"))  # now whole, the chunk is kept


def test_a_bank_of_nothing_but_the_photos_themselves_is_one_line(photos, tmp_path):  # noqa: F811
    """Every photo's only banked companions are itself and its byte copy: nothing to learn
    from, said in one line (not an IndexError)."""
    scene_only = tmp_path / "scene"
    scene_only.mkdir()
    (scene_only / "scene.png").write_bytes((photos / "scene.png").read_bytes())
    assert colorgan(["bank", "build", str(scene_only), "--out", str(tmp_path / "bank"), "-q"]) == 0
    with pytest.raises(ColorganError, match="no photo to fit the trust on: the bank holds"):
        trust_evidence.gather(Colorizer(), tmp_path / "bank", [photos / "scene.png"], "default")


@pytest.mark.slow
def test_the_command_fits_a_trust_from_a_configs_training_photos(
    photos,  # noqa: F811
    bank_copy,
    tmp_path,
    capsys,
):
    config = tmp_path / "c.yaml"
    config.write_text(small_config(tmp_path, photos).to_yaml())
    args = [str(bank_copy), "--train-of", str(config), "-q"]
    empty = tmp_path / "empty.yaml"
    empty.write_text(small_config(tmp_path, tmp_path / "nothing").to_yaml())
    (tmp_path / "nothing").mkdir()
    for wrong, words in [
        (["--photos", "1"], "--photos must be at least 2"),
        (["--seed", "-1"], "--seed must be 0 or more"),
        (["--train-of", str(empty)], "no images found under"),
    ]:
        assert main([*args, *wrong]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "fitted the trust" in out and "retrieved: model alone" in out
    assert Bank.load(bank_copy).trust is not None
    assert not (bank_copy / ".trust").exists()  # the evidence goes once the trust is written
    assert Bank.load(bank_copy).trust_model == "default"  # fitted for the default
