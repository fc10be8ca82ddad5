"""What leaves a run: the trained weights (a full model or an adapter), loading them back, and merged exports."""

from tuneforge.export.merge import merge_model, merge_run
from tuneforge.export.saved import load_model, save_model, saved_dir

__all__ = ["load_model", "merge_model", "merge_run", "save_model", "saved_dir"]
