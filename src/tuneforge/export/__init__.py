"""What leaves a run besides the run directory: a merged plain model dir (`tuneforge export --merge`).

GGUF files for llama.cpp are a causal-LM export: tuneforge.tasks.causal_lm_sft.gguf.
"""

from tuneforge.export.merge import merge_model, merge_run

__all__ = ["merge_model", "merge_run"]
