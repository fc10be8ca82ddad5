"""What leaves a run: the trained weights (a full model or an adapter), loading them back, and merged exports."""

from tuneforge.export.gguf import export_gguf, write_gguf
from tuneforge.export.merge import merge_model, merge_run
from tuneforge.export.saved import load_model, save_model, saved_dir

__all__ = ["export_gguf", "load_model", "merge_model", "merge_run", "save_model", "saved_dir", "write_gguf"]
