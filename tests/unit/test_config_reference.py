"""The README's config reference is generated from the config models: every key documented, never out of date."""

from pathlib import Path

import pytest

from tuneforge.config.reference import blocks, fields, readme_section, render_reference, update_readme

README = Path(__file__).resolve().parents[2] / "README.md"
KEYS = [(path, info) for title, model in blocks() for path, info in fields(title.split(":")[0], model)]


@pytest.mark.parametrize(("path", "info"), KEYS, ids=[path for path, _ in KEYS])
def test_every_key_has_a_description(path, info):
    assert (info.description or "").strip(), f"{path} has no description: add one to its Field(description=...)"


def test_the_reference_covers_the_keys_the_old_readme_missed():
    reference = render_reference()
    for key in ("data.format", "sft.question_column", "sft.generation.temperature", "method.layers"):
        assert f"| `{key}` |" in reference
    assert "`conll`" in reference


def test_the_readme_holds_the_generated_reference():
    assert readme_section(README) == render_reference(), (
        "README.md's config reference is out of date: run `python -m tuneforge.config.reference > /dev/null`"
    )


def test_update_readme_rewrites_only_the_marked_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- config-reference:start -->\nold\n<!-- config-reference:end -->\n\ntail\n")
    assert update_readme(readme) and not update_readme(readme)
    text = readme.read_text()
    assert text.startswith("# x\n\n<!-- config-reference:start -->\n### Common keys") and text.endswith(
        "-->\n\ntail\n"
    )
    assert readme_section(readme) == render_reference()
