"""pipeline.spread: a run's photos in groups no two of which can claim one output, so that
workers colouring groups apart name every output as one machine does."""

from pathlib import Path

from colorgan.pipeline.spread import groups


def names(found: list) -> list[list[str]]:
    return [[str(src) for src, _ in group] for group in found]


def test_inputs_whose_outputs_could_meet_share_a_group_in_the_runs_order(tmp_path):
    """Same name from two folders (the second becomes p-2), a photo named as that -2 name,
    one differing only in case or format, an alternative's name: one group; another folder of
    the output or another stem: groups of their own."""
    jobs = [
        (tmp_path / "a/p.jpg", Path("p.jpg")),
        (tmp_path / "a/q.jpg", Path("q.jpg")),
        (tmp_path / "b/p.jpg", Path("p.jpg")),
        (tmp_path / "a/sub/p.jpg", Path("sub/p.jpg")),
        (tmp_path / "a/p-2.jpg", Path("p-2.jpg")),
        (tmp_path / "a/P.png", Path("P.png")),
        (tmp_path / "a/p-alt1.tif", Path("p-alt1.tif")),
        (tmp_path / "a/pq.jpg", Path("pq.jpg")),
    ]
    found = groups(jobs, tmp_path / "out")
    assert names(found) == [
        [str(tmp_path / f) for f in ("a/p.jpg", "b/p.jpg", "a/p-2.jpg", "a/P.png", "a/p-alt1.tif")],
        [str(tmp_path / "a/q.jpg")],
        [str(tmp_path / "a/sub/p.jpg")],
        [str(tmp_path / "a/pq.jpg")],
    ]


def test_an_input_in_the_output_folder_joins_the_group_whose_output_could_replace_it(tmp_path):
    out = tmp_path / "out"
    inside = (out / "sub" / "r.png", Path("r.png"))  # given as a file: its output is out/r.png
    replacing = (tmp_path / "in" / "sub" / "r.png", Path("sub/r.png"))  # out/sub/r.png: inside's
    other = (tmp_path / "in" / "s.png", Path("s.png"))
    found = groups([inside, other, replacing], out)
    assert found == [[inside, replacing], [other]]
