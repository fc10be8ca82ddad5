"""The config tree: frozen pydantic models, one part per stage. `load_config` is the only YAML reader.

Relative paths in a config resolve against the working directory, as in `tuneforge train configs/demo.yaml`
run from the project root.

>>> cfg = load_config("configs/demo.yaml", ["train.epochs=2"])  # doctest: +SKIP
>>> cfg.train.epochs
2.0

Modules: load.py (YAML and `--set` overrides), describe.py (one line per validation error),
data.py, train.py, tracking.py (stage blocks), method.py (MethodConfig, the union of the method blocks,
which live beside their methods: tuneforge/methods/blocks.py, tuneforge/methods/fewshot_blocks.py),
root.py (Config).
"""

from tuneforge.config.data import CleanConfig, DataConfig, NerDataConfig, SplitConfig
from tuneforge.config.load import load_config, parse_overrides
from tuneforge.config.method import MethodConfig
from tuneforge.config.root import Config
from tuneforge.config.sft import SftConfig
from tuneforge.config.tracking import TrackingConfig
from tuneforge.config.train import AdversarialConfig, EarlyStoppingConfig, TrainConfig

__all__ = [
    "AdversarialConfig",
    "CleanConfig",
    "Config",
    "DataConfig",
    "EarlyStoppingConfig",
    "MethodConfig",
    "NerDataConfig",
    "SftConfig",
    "SplitConfig",
    "TrackingConfig",
    "TrainConfig",
    "load_config",
    "parse_overrides",
]
