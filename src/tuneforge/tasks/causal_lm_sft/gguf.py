"""`tuneforge export RUN_DIR --gguf`: a causal-LM run (or HF causal-LM dir) as one GGUF file for llama.cpp / Ollama.

LoRA/AdaLoRA/IA3 weights are folded in first (export/merge.py). The tensors get llama.cpp's names, and Q/K
projections llama.cpp's row order (see `_permute`); the metadata is what llama.cpp's loader reads for the
Llama architecture, the one supported (SmolLM2, Llama 2/3 and models with the same layout).

>>> export_gguf(Path("runs/support-sft"), outtype="f16")  # doctest: +SKIP
PosixPath('runs/support-sft/model-f16.gguf')
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import gguf
import numpy as np
import torch
from rich import get_console

from tuneforge.errors import RunError, TuneforgeError
from tuneforge.tasks.causal_lm_sft.gguf_vocab import gguf_vocab

__all__ = ["OutType", "export_gguf", "write_gguf"]

OutType = Literal["f32", "f16", "q8_0"]
_ARCHITECTURE = "llama"  # model_type of transformers and general.architecture of llama.cpp alike
_Q8_BLOCK = 32  # Q8_0 quantises rows in blocks of 32 values, each with its own scale


def export_gguf(source: Path, output: Path | None = None, outtype: OutType = "f16") -> Path:
    """Write a causal-lm-sft run, a causal-LM dir or alias as a GGUF file; default RUN_DIR/model-<outtype>.gguf."""
    from tuneforge.methods.merging import check_mergeable, fold_weights
    from tuneforge.rundir import read_json
    from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel, load_causal_lm

    if output is None:
        if not source.is_dir():
            raise TuneforgeError(f"{source} is not a directory: say where to write the file with --output")
        output = source / f"model-{outtype}.gguf"
    if (source / "manifest.json").is_file():
        manifest = read_json(source / "manifest.json")
        if manifest.get("task") != "causal-lm-sft":
            raise RunError(f"{source} is a {manifest.get('task')} run; GGUF export needs a causal-lm-sft run")
        method = manifest.get("method", "full")
        check_mergeable(method)  # before the seconds spent loading
        chat = ChatModel.load(source)
        model, tokenizer = fold_weights(chat.model, method), chat.tokenizer
    else:
        model, tokenizer = load_causal_lm(str(source))
    write_gguf(model, tokenizer, output, outtype, name=source.name)
    size = output.stat().st_size
    get_console().print(f"GGUF ({outtype}, {size / 1e6:.1f} MB) written to [bold]{output}[/]")
    return output


def write_gguf(model: torch.nn.Module, tokenizer: Any, output: Path, outtype: OutType = "f16", name: str = "") -> Path:
    """Write a Llama-architecture causal LM and its byte-level BPE tokenizer to `output` (atomically).

    f32 keeps the weights exactly; f16 halves the file (norm weights stay f32, as llama.cpp keeps them); q8_0
    stores matrices as 8-bit blocks (about a quarter of f32), falling back to f16 for a matrix whose rows are
    not a multiple of 32 long, as llama.cpp's converter does.
    """
    config = model.config
    _check_supported(config)
    vocab = gguf_vocab(tokenizer, config.vocab_size)
    staging = output.with_name(output.name + ".partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(staging, _ARCHITECTURE)
    _add_hyperparameters(writer, config, name or output.stem, outtype)
    vocab.add_to(writer)
    for gguf_name, array, raw_dtype in _tensors(model, outtype):
        writer.add_tensor(gguf_name, array, raw_dtype=raw_dtype)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(staging, output)  # readers see no file or a complete one
    finally:
        writer.close()
        staging.unlink(missing_ok=True)  # still there only when writing failed
    return output


def _check_supported(config: Any) -> None:
    problems = []
    if config.model_type != _ARCHITECTURE:
        problems.append(f"architecture '{config.model_type}': GGUF export supports '{_ARCHITECTURE}' only")
    rope = getattr(config, "rope_parameters", None) or {}
    if rope.get("rope_type", "default") != "default":
        problems.append(f"rope_type '{rope['rope_type']}': GGUF export writes plain RoPE only")
    if getattr(config, "hidden_act", "silu") != "silu":
        problems.append(f"hidden_act '{config.hidden_act}': the Llama architecture of llama.cpp uses silu")
    if problems:
        raise TuneforgeError("the model cannot be exported to GGUF", problems)


def _add_hyperparameters(writer: Any, config: Any, name: str, outtype: OutType) -> None:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(config.rope_parameters["rope_theta"])
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    file_types = {"f32": "ALL_F32", "f16": "MOSTLY_F16", "q8_0": "MOSTLY_Q8_0"}
    writer.add_file_type(gguf.LlamaFileType[file_types[outtype]])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _tensors(model: torch.nn.Module, outtype: OutType) -> Iterator[tuple[str, np.ndarray, Any]]:
    """(GGUF name, data, raw GGML type or None) of every weight, in llama.cpp's names and layout."""
    config = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and config.tie_word_embeddings:
            continue  # llama.cpp reuses token_embd.weight when the file has no output.weight
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise TuneforgeError(f"tensor '{hf_name}' has no place in a GGUF file of the Llama architecture")
        data = tensor.detach().to(torch.float32)
        if ".q_proj." in hf_name:
            data = _permute(data, heads)
        elif ".k_proj." in hf_name:
            data = _permute(data, kv_heads)
        yield gguf_name, *_encode(data.numpy(), outtype)


def _permute(weight: torch.Tensor, heads: int) -> torch.Tensor:
    """Rows of a Q or K projection in llama.cpp's order.

    transformers applies RoPE to the two halves of each head (`rotate_half`), llama.cpp to interleaved pairs;
    llama.cpp's converter (`LlamaModel.permute`) reorders the rows so that both compute the same attention,
    and transformers' GGUF loader undoes it (`LlamaTensorProcessor._reverse_permute_weights`).
    """
    rows = weight.shape[0]
    return weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _encode(data: np.ndarray, outtype: OutType) -> tuple[np.ndarray, Any]:
    if outtype == "f32" or data.ndim == 1:  # norms stay f32: tiny, and read in f32 by llama.cpp
        return data, None
    if outtype == "q8_0" and data.shape[-1] % _Q8_BLOCK == 0:
        q8 = gguf.GGMLQuantizationType.Q8_0
        return gguf.quants.quantize(data, q8), q8
    return data.astype(np.float16), None
