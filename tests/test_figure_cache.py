"""Figures drawn once per content: the batch's kernels reuse a figure rendered from the same inputs."""
from __future__ import annotations

import pytest

from clusnet_analysis import config
from clusnet_analysis.ingest.dataset import load
from clusnet_analysis.publish import display
from clusnet_analysis.sections import FigureSpec, for_dataset, reuse


@pytest.fixture(scope="module")
def dataset():
    return load(config.SAMPLE_DATA_DIR, use_cache=False)


def _counting_spec(calls: list, figure_id: str = "01_test_figure", title: str = "A line") -> FigureSpec:
    def build():
        import matplotlib.pyplot as plt

        calls.append(figure_id)
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([1, 2, 3], [1, 3, 2])
        return fig

    return FigureSpec(id=figure_id, title=title, build=build, alt="a line going up then down")


def test_with_the_cache_on_a_figure_is_drawn_once_per_content(dataset, monkeypatch):
    monkeypatch.setenv(reuse.SWITCH, "1")
    calls: list[str] = []
    first = display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"), ("png", "svg"))
    # another kernel, another view object of the same period and data: the stored bytes
    again = display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"), ("png", "svg"))
    assert calls == ["01_test_figure"]
    assert again == first and first[0].startswith(b"\x89PNG") and b"<svg" in first[1]
    assert len(list((config.CACHE_DIR / "figures").glob("*.png"))) == 1


def test_another_period_title_or_format_draws_again(dataset, monkeypatch):
    monkeypatch.setenv(reuse.SWITCH, "1")
    calls: list[str] = []
    display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"))
    display.render_figure(_counting_spec(calls), for_dataset(dataset, "S4"))  # caption and data differ
    display.render_figure(_counting_spec(calls, title="Another"), for_dataset(dataset, "S3"))
    display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"), ("png", "svg"))  # no SVG yet
    assert len(calls) == 4


def test_a_cached_figure_is_the_figure_drawn_without_the_cache(dataset, monkeypatch):
    monkeypatch.setenv(reuse.SWITCH, "1")
    cached = display.render_figure(_counting_spec([]), for_dataset(dataset, "S5"))
    cached = display.render_figure(_counting_spec([]), for_dataset(dataset, "S5"))
    monkeypatch.delenv(reuse.SWITCH)
    assert display.render_figure(_counting_spec([]), for_dataset(dataset, "S5")) == cached


def test_without_the_switch_nothing_is_cached(dataset, monkeypatch):
    monkeypatch.delenv(reuse.SWITCH, raising=False)
    calls: list[str] = []
    for _ in range(2):
        display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"))
    assert len(calls) == 2
    assert not (config.CACHE_DIR / "figures").exists()


# ---------------------------------------------------------------- sections computed once
def _counting_areas(monkeypatch) -> list[str]:
    import clusnet_analysis.sections as sections

    calls: list[str] = []
    real = sections._areas

    def counting():
        return {area: (lambda view, _f=function, _a=area: calls.append(_a) or _f(view))
                for area, function in real().items()}

    monkeypatch.setattr(sections, "_areas", counting)
    return calls


def test_with_reuse_on_a_section_is_computed_once_per_content(dataset, monkeypatch):
    import shutil

    from clusnet_analysis import sections

    monkeypatch.setenv(reuse.SWITCH, "1")
    calls = _counting_areas(monkeypatch)
    first = sections.build(for_dataset(dataset, "S4"), "budget")
    shutil.rmtree(config.CACHE_DIR / "figures", ignore_errors=True)
    second_view = for_dataset(dataset, "S4")  # another notebook: the stored section
    second = sections.build(second_view, "budget")
    assert calls == ["budget"]
    assert [k.__dict__ for k in second.key_numbers] == [k.__dict__ for k in first.key_numbers]
    assert [t.id for t in second.tables] == [t.id for t in first.tables]
    for mine, theirs in zip(second.tables, first.tables):
        assert mine.frame.equals(theirs.frame)
    assert second.readings == first.readings
    # its figures are not stored with it: not in the figure cache, they are drawn from a fresh section
    spec = second.figures[0]
    assert display.render_figure(spec, second_view) == display.render_figure(first.figures[0], for_dataset(dataset, "S4"))
    assert calls == ["budget", "budget"]
    sections.build(for_dataset(dataset, "S5"), "budget")  # another period: computed
    assert calls == ["budget", "budget", "budget"]


def test_without_the_switch_sections_are_always_computed(dataset, monkeypatch):
    from clusnet_analysis import sections

    monkeypatch.delenv(reuse.SWITCH, raising=False)
    calls = _counting_areas(monkeypatch)
    for _ in range(2):
        sections.build(for_dataset(dataset, "S4"), "links")
    assert calls == ["links", "links"]
    assert not (config.CACHE_DIR / "sections").exists()
