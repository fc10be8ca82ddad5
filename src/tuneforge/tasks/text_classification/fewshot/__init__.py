"""Zero-shot and few-shot text classification: methods that fit no classification head by gradient descent.

- `zeroshot-embed`: nearest label description in a sentence-embedding space; no training.
- `zeroshot-llm`: an instruction LLM scores each label as the answer to a prompt; no training.
- `setfit`: contrastive tuning of the sentence encoder on a few examples per label, then a logistic regression.

Each is one `FewShotMethod` entry of FEW_SHOT (see fewshot/base.py). Their runs are ordinary run directories:
`tuneforge train` evaluates them like any classifier, `TextClassifier.load` and `tuneforge predict` use them, and
`tuneforge compare` puts them beside the fine-tuning methods.

>>> cfg = load_config("configs/banking77-zeroshot-embed.yaml")  # doctest: +SKIP
>>> tuneforge.train(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneforge.tasks.text_classification.fewshot.base import FewShotMethod, Fitted

__all__ = ["FEW_SHOT", "FewShotMethod", "Fitted"]


def __getattr__(name: str) -> Any:
    # Imported on first use: tuneforge.config reads the method blocks from methods/fewshot_blocks.py, so importing this
    # package must load neither torch nor the method modules (which import tuneforge.config).
    if name in ("FewShotMethod", "Fitted"):
        from tuneforge.tasks.text_classification.fewshot import base

        return getattr(base, name)
    if name == "FEW_SHOT":
        from tuneforge.tasks.text_classification.fewshot.setfit import SETFIT
        from tuneforge.tasks.text_classification.fewshot.zeroshot_embed import ZEROSHOT_EMBED
        from tuneforge.tasks.text_classification.fewshot.zeroshot_llm import ZEROSHOT_LLM

        few_shot: dict[str, FewShotMethod] = {
            "zeroshot-embed": ZEROSHOT_EMBED,
            "zeroshot-llm": ZEROSHOT_LLM,
            "setfit": SETFIT,
        }
        globals()["FEW_SHOT"] = few_shot  # one table, built once
        return few_shot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
