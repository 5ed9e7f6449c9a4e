"""A bank's learned trust (pipeline.trust_evidence, training.trust, `colorgan bank
fit-trust`): the gate is fitted to what the bank really returns for training photos, never the
photo itself, written into the bank, resumable, and used by colorize in place of the ramp."""

import json
import shutil

import numpy as np
import pytest
import torch

from colorgan import ColorganError, Colorizer
from colorgan.apps.cli import main
from colorgan.pipeline import reference, trust_evidence
from colorgan.pipeline.bank import HIGH, LOW, MANIFEST, Bank, write_trust
from colorgan.training import trust
from tests.conftest import small_config
from tests.test_bank import bank_dir, photos  # noqa: F401 - the fixtures
from tests.test_references import ab_of, is_magenta, scene


def with_trust(bank_dir, tmp_path, weights) -> Bank:  # noqa: F811
    copy = tmp_path / "bank"
    shutil.copytree(bank_dir, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    (copy / MANIFEST).write_text(json.dumps({**manifest, "trust": weights}))
    return Bank.load(copy)


def test_a_bank_with_a_trust_uses_it_in_place_of_the_ramp(bank_dir, tmp_path):  # noqa: F811
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
def test_a_bad_trust_in_a_manifest_is_one_line(bank_dir, tmp_path, bad):  # noqa: F811
    with pytest.raises(ColorganError, match="trust is not 4 finite numbers"):
        with_trust(bank_dir, tmp_path, bad)


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
    weights = trust.fit(evidence)
    confidence = torch.sigmoid(
        torch.from_numpy(evidence["inputs"]).double() @ torch.tensor(weights)
    )
    assert confidence[torch.from_numpy(s > 0.7)].mean() > 0.8
    assert confidence[torch.from_numpy(s < 0.5)].mean() < 0.2


def test_fit_trust_learns_from_retrievals_never_the_photo_itself(photos, bank_dir, tmp_path):  # noqa: F811
    copy = tmp_path / "bank"
    shutil.copytree(bank_dir, copy)
    bank, colorizer = Bank.load(copy), Colorizer()
    paths = sorted(photos.glob("*.png"))
    evidence = trust_evidence.gather(colorizer, copy, paths, "default")
    result = trust.fit_and_report(evidence, LOW, HIGH)
    write_trust(copy, result["weights"], "default")
    assert Bank.load(copy).trust == tuple(result["weights"])
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
    chunks = sorted((copy / ".trust").glob("*.npz"))
    stamps = [p.stat().st_mtime_ns for p in chunks]
    trust_evidence.gather(colorizer, copy, paths, "default")
    assert [p.stat().st_mtime_ns for p in chunks] == stamps
    for model, some in (("default", paths[:-1]), ("paper", paths)):
        with pytest.raises(ColorganError, match="evidence of another model, bank or photos"):
            trust_evidence.gather(colorizer, copy, some, model)


def test_a_bank_of_nothing_but_the_photos_themselves_is_one_line(photos, tmp_path):  # noqa: F811
    """Every photo's only banked companions are itself and its byte copy: nothing to learn
    from, said in one line (not an IndexError)."""
    scene_only = tmp_path / "scene"
    scene_only.mkdir()
    (scene_only / "scene.png").write_bytes((photos / "scene.png").read_bytes())
    assert main(["bank", "build", str(scene_only), "--out", str(tmp_path / "bank"), "-q"]) == 0
    with pytest.raises(ColorganError, match="no photo to fit the trust on"):
        trust_evidence.gather(Colorizer(), tmp_path / "bank", [photos / "scene.png"], "default")


def test_the_command_fits_a_trust_from_a_configs_training_photos(
    photos,  # noqa: F811
    bank_dir,  # noqa: F811
    tmp_path,
    capsys,
):
    copy = tmp_path / "bank"
    shutil.copytree(bank_dir, copy)
    config = tmp_path / "c.yaml"
    config.write_text(small_config(tmp_path, photos).to_yaml())
    args = ["bank", "fit-trust", str(copy), "--train-of", str(config), "-q"]
    assert main([*args, "--photos", "1"]) == 2
    assert "--photos must be at least 2" in capsys.readouterr().err
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "fitted the trust" in out and "retrieved: model alone" in out
    assert Bank.load(copy).trust is not None
    assert not (copy / ".trust").exists()  # the evidence goes once the trust is written
    assert Bank.load(copy).trust_model == "default"  # fitted for the default: said if not
    colour, _ = scene()
    colour.convert("L").save(tmp_path / "grey.png")
    colorize = ["colorize", str(tmp_path / "grey.png"), "--reference-bank", str(copy), "-q"]
    for model, warned in (("default", False), ("paper", True)):
        out = ["--out", str(tmp_path / model), "--model", model]
        assert main([*colorize, *out]) == 0
        assert ("trust was fitted for another model" in capsys.readouterr().err) == warned
    empty = tmp_path / "empty.yaml"
    empty.write_text(small_config(tmp_path, tmp_path / "nothing").to_yaml())
    (tmp_path / "nothing").mkdir()
    assert main(["bank", "fit-trust", str(copy), "--train-of", str(empty), "-q"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
