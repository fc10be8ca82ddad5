"""What leaves a run: the trained weights (a full model or an adapter), loading them back, and merged exports."""

from tuneforge.export.merge import merge_model
from tuneforge.export.saved import load_model, save_model, saved_dir

__all__ = ["load_model", "merge_model", "save_model", "saved_dir"]
