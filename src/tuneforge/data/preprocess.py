"""The text preprocessing of a run: what training's cleaning does to one text, applied again wherever its model
predicts, so that prediction, evaluation and serving feed the model what training fed it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tuneforge.config import CleanConfig
from tuneforge.data.normalize import normalize_text
from tuneforge.data.pii import redact

__all__ = ["TextPreprocessing"]


@dataclass(frozen=True)
class TextPreprocessing:
    """Training's per-text cleaning, in its order: `normalize_text` (data/validate.py) when data.clean.normalize,
    then `redact` (data/prepare.py) when data.clean.redact_pii. Dedup drops rows and changes no text.

    >>> TextPreprocessing(normalize=True, redact_pii=True)("Ｃａｌｌ 138-1234-5678<br>")
    'Call [PHONE]'
    """

    normalize: bool = False  # the default changes nothing: an estimator built without a run
    redact_pii: bool = False

    @classmethod
    def of(cls, clean: CleanConfig) -> TextPreprocessing:
        return cls(normalize=clean.normalize, redact_pii=clean.redact_pii)

    def __call__(self, text: str) -> str:
        text = normalize_text(text) if self.normalize else text
        return redact(text)[0] if self.redact_pii else text

    def to_dict(self) -> dict[str, Any]:
        """What the run manifest records under "preprocessing"."""
        return asdict(self)
