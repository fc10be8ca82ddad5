"""Generation: batched answers equal one-at-a-time answers, stop strings end answers, streaming matches."""

from transformers import AutoModelForCausalLM, AutoTokenizer

from tuneforge.llm.chat_model import ChatModel, trim_at_stop

QUESTIONS = [
    [{"role": "user", "content": "退货期限是多久?"}],
    [{"role": "user", "content": "How long does delivery take to Berlin, and can I choose a weekend slot?"}],
    [{"role": "user", "content": "hi"}],
]


def _bot(tiny_llama_dir) -> ChatModel:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    return ChatModel(model, AutoTokenizer.from_pretrained(tiny_llama_dir))


def test_batched_left_padded_answers_equal_single_answers(tiny_llama_dir) -> None:
    bot = _bot(tiny_llama_dir)
    batched = bot.generate_batch(QUESTIONS, batch_size=3, max_new_tokens=12)
    single = [bot.generate_batch([q], batch_size=1, max_new_tokens=12)[0] for q in QUESTIONS]
    assert batched == single and all(batched)


def test_stop_strings_end_the_answer_and_streaming_matches(tiny_llama_dir) -> None:
    bot = _bot(tiny_llama_dir)
    full = bot.generate_batch(QUESTIONS[:1], max_new_tokens=20)[0]
    stop = full[3:5]  # a piece of the greedy answer, so generation must stop there
    cut = bot.generate_batch(QUESTIONS[:1], max_new_tokens=20, stop=[stop])[0]
    # A random model writes invalid bytes too; those left dangling at the cut decode as U+FFFD and are dropped.
    assert cut == full[: full.index(stop)].rstrip("\ufffd").strip() and stop not in cut
    streamed = "".join(bot.stream(QUESTIONS[0], max_new_tokens=20, stop=[stop]))
    assert streamed.strip() == cut
    assert "".join(bot.stream(QUESTIONS[0], max_new_tokens=20)).strip() == full


def test_trim_at_stop() -> None:
    assert trim_at_stop("a STOP b END", ["END", "STOP"]) == "a "
    assert trim_at_stop("abc", []) == "abc"
