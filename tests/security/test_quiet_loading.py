"""Library use: `tuneforge.load` prints no transformers loading bars or load reports, and leaves the user's
transformers logging settings as they were."""

from pathlib import Path

from transformers.utils import logging

import tuneforge
from tests.unit.serve.conftest import classifier_run  # noqa: F401  (fixture)


def test_load_is_quiet_and_restores_the_settings(classifier_run: Path, capfd) -> None:  # noqa: F811
    logging.set_verbosity_info()
    logging.enable_progress_bar()
    try:
        capfd.readouterr()
        tuneforge.load(classifier_run)
        out, err = capfd.readouterr()
        assert "Loading weights" not in out + err and "MISSING" not in out + err
        assert logging.get_verbosity() == logging.INFO and logging.is_progress_bar_enabled()
    finally:
        logging.set_verbosity_warning()
