"""Figures drawn once per content: the batch's kernels reuse a figure rendered from the same inputs."""
from __future__ import annotations

import pytest

from clusnet_analysis import config
from clusnet_analysis.ingest.dataset import load
from clusnet_analysis.publish import display
from clusnet_analysis.sections import FigureSpec, for_dataset


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
    monkeypatch.setenv(display.FIGURE_CACHE, "1")
    calls: list[str] = []
    first = display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"), ("png", "svg"))
    # another kernel, another view object of the same period and data: the stored bytes
    again = display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"), ("png", "svg"))
    assert calls == ["01_test_figure"]
    assert again == first and first[0].startswith(b"\x89PNG") and b"<svg" in first[1]
    assert len(list((config.CACHE_DIR / "figures").glob("*.png"))) == 1


def test_another_period_title_or_format_draws_again(dataset, monkeypatch):
    monkeypatch.setenv(display.FIGURE_CACHE, "1")
    calls: list[str] = []
    display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"))
    display.render_figure(_counting_spec(calls), for_dataset(dataset, "S4"))  # caption and data differ
    display.render_figure(_counting_spec(calls, title="Another"), for_dataset(dataset, "S3"))
    display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"), ("png", "svg"))  # no SVG yet
    assert len(calls) == 4


def test_a_cached_figure_is_the_figure_drawn_without_the_cache(dataset, monkeypatch):
    monkeypatch.setenv(display.FIGURE_CACHE, "1")
    cached = display.render_figure(_counting_spec([]), for_dataset(dataset, "S5"))
    cached = display.render_figure(_counting_spec([]), for_dataset(dataset, "S5"))
    monkeypatch.delenv(display.FIGURE_CACHE)
    assert display.render_figure(_counting_spec([]), for_dataset(dataset, "S5")) == cached


def test_without_the_switch_nothing_is_cached(dataset, monkeypatch):
    monkeypatch.delenv(display.FIGURE_CACHE, raising=False)
    calls: list[str] = []
    for _ in range(2):
        display.render_figure(_counting_spec(calls), for_dataset(dataset, "S3"))
    assert len(calls) == 2
    assert not (config.CACHE_DIR / "figures").exists()
