from __future__ import annotations

import pytest

from genmedia.errors import InvalidArgument
from genmedia.media import ASPECT_RATIOS, ImageSpec, dimensions_for, make_image_provider
from genmedia.media.local import LocalImageProvider


@pytest.mark.parametrize(
    ("ratio", "size"),
    [
        ("1:1", (1024, 1024)),
        ("3:4", (768, 1024)),
        ("4:3", (1024, 768)),
        ("9:16", (576, 1024)),
        ("16:9", (1024, 576)),
    ],
)
def test_dimensions_for(ratio: str, size: tuple[int, int]) -> None:
    assert dimensions_for(ratio) == size


def test_dimensions_scale_with_long_side() -> None:
    assert dimensions_for("16:9", long_side=512) == (512, 288)
    assert set(ASPECT_RATIOS) == {"1:1", "3:4", "4:3", "9:16", "16:9"}


def test_dimensions_reject_unknown_ratio() -> None:
    with pytest.raises(ValueError, match="aspect ratio"):
        dimensions_for("2:1")


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x", "count": 0}, "count"),
        ({"prompt": "x", "count": 5}, "count"),
        ({"prompt": "x", "aspect_ratio": "21:9"}, "aspect_ratio"),
        ({"prompt": "x", "seed": -1}, "seed"),
        ({"prompt": "x", "seed": 2**32}, "seed"),
    ],
)
def test_image_spec_validates(fields: dict[str, object], bad_field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        ImageSpec(**fields)  # type: ignore[arg-type]
    assert [error.field for error in caught.value.errors] == [bad_field]


def test_full_prompt_folds_in_style() -> None:
    assert ImageSpec(prompt="a fox").full_prompt() == "a fox"
    assert ImageSpec(prompt="a fox", style="ukiyo-e").full_prompt() == (
        "a fox, in the style of ukiyo-e"
    )


def test_factory_local_ignores_vertex_settings() -> None:
    provider = make_image_provider("local", project_id="", location="", model="")
    assert isinstance(provider, LocalImageProvider)
    assert provider.name == "local"
    assert provider.cost_per_image == 0


def test_factory_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown image provider"):
        make_image_provider("dall-e", project_id="p", location="l", model="m")


def test_factory_vertex_requires_project() -> None:
    with pytest.raises(ValueError, match="project"):
        make_image_provider("vertex", project_id="", location="us-central1", model="imagen")
