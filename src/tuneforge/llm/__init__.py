"""Instruction / chat fine-tuning of causal LMs: chat data, loss masks, packing, generation, metrics, GGUF cache.

>>> from tuneforge.llm import ChatModel
>>> bot = ChatModel.load("runs/support-sft")  # doctest: +SKIP
>>> print(bot.generate_batch([[{"role": "user", "content": "How long do refunds take?"}]])[0])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneforge.llm.chat_model import ChatModel

__all__ = ["ChatModel"]


def __getattr__(name: str) -> Any:
    # torch and transformers load only when the generator is used, so `import tuneforge.config` stays light.
    if name == "ChatModel":
        from tuneforge.llm.chat_model import ChatModel

        return ChatModel
    raise AttributeError(name)
