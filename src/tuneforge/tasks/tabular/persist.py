"""Saving and loading the scikit-learn parts of a tabular run (estimators, the MLP's encoder) with skops, not pickle.

A pickle runs whatever code its bytes name when it is loaded, so a planted file in a run folder would run on
`predict`, `evaluate`, `serve` or a reload. skops stores the object as data and rebuilds only the types it is told
to trust: scikit-learn's estimators and numpy are trusted by skops itself; `_TRUSTED` lists the few internals of
HistGradientBoosting that are not, fixed here rather than read from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneforge.errors import RunError

__all__ = ["load_sklearn", "save_sklearn"]

# What skops.io.get_untrusted_types reports for our HistGradientBoosting pipeline (scikit-learn 1.9, skops 0.16);
# the logistic regression and the one-hot / scaled encoder need none.
_TRUSTED = [
    "functools.partial",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]


def save_sklearn(obj: Any, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path)


def load_sklearn(path: Path) -> Any:
    """Rebuild what `save_sklearn` wrote; a file holding anything else is refused, and nothing in it runs."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    if not path.is_file():
        older = sorted(p.name for p in path.parent.glob("*.pkl"))
        if older:
            raise RunError(
                f"{path.parent} holds {', '.join(older)}, pickles of an older tuneforge: tuneforge no longer loads "
                "pickles, which can run code; retrain the run"
            )
        raise RunError(f"{path} is missing: the run is incomplete; retrain it")
    try:
        return sio.load(path, trusted=_TRUSTED)
    except UntrustedTypesFoundException as error:
        raise RunError(f"{path} was changed after training (it names types tuneforge never saves): {error}") from None
    except Exception as error:  # a zip that is no skops file, or not a zip at all: BadZipFile, KeyError, ...
        raise RunError(f"{path} is not a skops file written by tuneforge ({type(error).__name__}: {error})") from None
