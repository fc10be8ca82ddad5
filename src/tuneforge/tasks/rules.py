"""The config rules that need the task and method tables, checked in one place and all reported together.

What a task allows is data on its row in TASKS (`methods`, `options`, `formats`, `packs`, its own `rules`); what
a method needs is data on its entry in METHODS (`trains`, `fits_itself`, `virtual_tokens`). `config_problems`
reads both, so `tuneforge train` and `tuneforge data check` refuse a config before any work.

>>> config_problems(load_config("configs/demo.yaml"))  # doctest: +SKIP
[]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneforge.errors import ConfigError
from tuneforge.methods import METHODS
from tuneforge.tasks import TASKS

if TYPE_CHECKING:
    from tuneforge.config import Config

__all__ = ["check_config", "config_problems"]

# Top-level keys that only some tasks read, with the value that means "not set"; a task lists those it reads.
_OPTION_DEFAULTS: dict[str, Any] = {
    "pooling": "auto",
    "head_init": "random",
    "train.label_smoothing": 0.0,
    "train.class_weights": "none",
    "extend_vocab": False,
    "tabular": None,
    "recommend": None,
}


def _value(cfg: Config, key: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _option_owners(key: str) -> list[str]:
    return [name for name, spec in TASKS.items() if key in spec.options]


def _output_dir_problems(cfg: Config) -> list[str]:
    """A finished run replaces its whole output_dir, so one that holds a data file would delete it."""
    where = cfg.output_dir.resolve()
    files = {"data.train": cfg.data.train, "data.validation": cfg.data.validation, "data.test": cfg.data.test}
    files["recommend.items"] = cfg.recommend.items if cfg.recommend else None
    return [
        f"output_dir {cfg.output_dir} holds {key} ({path}); a finished run replaces the whole folder, so choose an "
        "output_dir outside the data, e.g. runs/<name>"
        for key, path in files.items()
        if path and where in path.resolve().parents
    ]


def config_problems(cfg: Config) -> list[str]:
    """Every rule of the two tables that `cfg` breaks, one message each (empty: the config fits)."""
    spec, method = TASKS[cfg.task], METHODS[cfg.method.name]
    problems = []
    if cfg.method.name not in spec.methods:
        problems.append(f"method {cfg.method.name} does not fit task {cfg.task}; use one of {', '.join(spec.methods)}")
    for key, default in _OPTION_DEFAULTS.items():
        if key not in spec.options and _value(cfg, key) != default:
            owners = " or ".join(_option_owners(key))
            problems.append(f"{key} is an option of task {owners}, not {cfg.task}; leave it out")
    if cfg.data.format not in spec.formats:
        problems.append(
            f"data.format {cfg.data.format} holds nothing task {cfg.task} reads; use one of {', '.join(spec.formats)}"
        )
    if cfg.data.text_column == cfg.data.label_column and cfg.task == "text-classification":
        # The model would read its own answer: 100% accuracy, learned nothing.
        problems.append(
            f"data.text_column and data.label_column are both '{cfg.data.text_column}'; the model would be shown "
            "its label as the text"
        )
    if cfg.extend_vocab and cfg.method.name != "full":
        problems.append(
            f"extend_vocab adds token embeddings that only method full trains and saves, not {cfg.method.name}"
        )
    if cfg.head_init == "probe" and method.fits_itself:
        problems.append(f"head_init: probe starts a trained head; method {cfg.method.name} fits its own")
    if cfg.train.adversarial and not method.trains:
        problems.append(f"train.adversarial needs training; method {cfg.method.name} trains nothing")
    if cfg.train.packing and not (spec.packs and not method.virtual_tokens):
        why = f"method '{cfg.method.name}' adds virtual tokens" if spec.packs else f"task {cfg.task} cannot pack"
        problems.append(f"train.packing: true is not supported here ({why}); set it to false or null")
    if cfg.continual is not None and spec.continual is None:
        able = ", ".join(name for name, row in TASKS.items() if row.continual)
        problems.append(f"continual: task {cfg.task} has no continual rounds (tuneforge retrain); tasks with: {able}")
    elif cfg.continual is not None and (not method.trains or method.fits_itself):
        problems.append(f"continual: method {cfg.method.name} is no model a round could continue; use full or lora")
    return problems + _output_dir_problems(cfg) + spec.rules(cfg)


def check_config(cfg: Config, source: str = "the config") -> Config:
    """`cfg` when it fits the tables; otherwise one ConfigError listing every problem."""
    if problems := config_problems(cfg):
        raise ConfigError(f"{source}: {len(problems)} problem(s) in the config", problems)
    return cfg
