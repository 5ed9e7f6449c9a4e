import csv

from PIL import Image

from colorgan.training.runlog import RunLog, plot_losses, read_losses


def test_the_log_has_a_column_per_term_and_a_resume_keeps_old_columns(tmp_path):
    run = tmp_path / "run"
    log = RunLog(run, 0, "name: x\n", True, ["l1", "d", "gan"])
    log.losses(1, 0, "pretrain", {"l1": 0.5}, wait=0.1)
    log.losses(2, 0, "adversarial", {"d": 0.7, "gan": 2.0, "l1": 0.4}, wait=0.1)
    log.validation(2, 0, "adversarial", 0.45, 0.02)
    log.losses(3, 0, "adversarial", {"d": 0.6, "gan": 2.1, "l1": 0.3}, wait=0.1)
    log.close()
    header = (run / "losses.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["step", "phase", "epoch", "l1", "d", "gan"]
    # resumed at step 2 with another recipe's terms: later rows go, old columns stay
    log = RunLog(run, 2, "name: x\n", True, ["mse"])
    log.losses(3, 1, "pretrain", {"mse": 0.2}, wait=0.0)
    log.close()
    rows = list(csv.DictReader(open(run / "losses.csv")))
    assert [r["step"] for r in rows] == ["1", "2", "2", "3"]
    assert rows[-1]["mse"] == "0.2" and rows[1]["gan"] == "2.0"
    curves = read_losses(run / "losses.csv")
    assert curves["l1"] == [(1, 0.5), (2, 0.4)] and curves["val_l1"] == [(2, 0.45)]
    assert curves["val_l1_se"] == [(2, 0.02)]
    assert set(curves) == {"l1", "d", "gan", "mse", "val_l1", "val_l1_se"}


def test_the_plot_has_a_panel_per_term(tmp_path):
    run = tmp_path / "run"
    log = RunLog(run, 0, "", True, ["l1", "d", "gan"])
    for step in range(1, 6):
        log.losses(step, 0, "adversarial", {"d": 0.7, "gan": 2.0, "l1": 1 / step}, wait=0.0)
    log.validation(5, 0, "adversarial", 0.3, 0.05)
    log.close()
    panels = plot_losses({"a run": run / "losses.csv"}, tmp_path / "losses.png")
    assert [(p.title, p.lines) for p in panels] == [
        ("l1 (training)", 1),
        ("d (training)", 1),
        ("gan (training)", 1),
        ("validation L1 of ab, ± s.e.", 1),
    ]
    assert panels[0].last == (5, 0.2) and panels[3].last == (5, 0.3)
    assert Image.open(tmp_path / "losses.png").size[0] > 1000
