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

from tuneforge.fewshot.base import FewShotMethod, Fitted
from tuneforge.fewshot.setfit import SETFIT
from tuneforge.fewshot.zeroshot_embed import ZEROSHOT_EMBED
from tuneforge.fewshot.zeroshot_llm import ZEROSHOT_LLM

__all__ = ["FEW_SHOT", "FewShotMethod", "Fitted"]

FEW_SHOT: dict[str, FewShotMethod] = {
    "zeroshot-embed": ZEROSHOT_EMBED,
    "zeroshot-llm": ZEROSHOT_LLM,
    "setfit": SETFIT,
}
