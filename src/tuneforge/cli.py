"""The `tuneforge` command: each command is one library call; user errors print a message, never a traceback."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich import get_console
from rich.console import Console

from tuneforge.errors import TuneforgeError
from tuneforge.registry.cli import models_app  # torch-free: `tuneforge --help` stays fast
from tuneforge.serve.cli import DatabaseOpt, serve_feedback_app, serve_keys_app, serve_settings
from tuneforge.user_errors import user_errors as _user_errors

app = typer.Typer(help="Fine-tune pretrained language models on your own data.", no_args_is_help=True)
data_app = typer.Typer(help="Inspect data without training.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(serve_keys_app, name="keys")
app.add_typer(serve_feedback_app, name="feedback")
app.add_typer(models_app, name="models")

F = TypeVar("F", bound=Callable[..., Any])
ConfigArg = Annotated[Path, typer.Argument(help="YAML config file.")]
RunArg = Annotated[Path, typer.Argument(help="A finished run directory (output_dir of a config).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a config key: --set train.epochs=2")]


def _print_version(value: bool) -> None:
    if value:
        from tuneforge import __version__

        typer.echo(f"tuneforge {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Fine-tune pretrained language models on your own data."""


def _quiet_libraries() -> None:
    # Library chatter (load reports, advisory warnings) hides our own report; errors still show.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


@app.command()
@_user_errors
def train(
    config: ConfigArg,
    overrides: SetOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from its last checkpoint.")] = False,
) -> None:
    """Validate the data, fine-tune, evaluate and write the run directory."""
    from tuneforge.tasks import load_config
    from tuneforge.tasks import train as run_training

    cfg = load_config(config, overrides)
    _quiet_libraries()
    run_training(cfg, resume=resume)


@app.command()
@_user_errors
def retrain(
    config: ConfigArg,
    champion: Annotated[str, typer.Option(help="The model's name in the registry; its champion is improved.")],
    registry: Annotated[
        Path | None, typer.Option(help="Registry folder; default $TUNEFORGE_REGISTRY, else ./models.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Show the round's data and plan; train nothing.")] = False,
    overrides: SetOpt = None,
) -> None:
    """One continual round: the champion's new feedback → challenger → gate → a new version, promoted if it passes.
    Exits 0 with "nothing to do" when too little new feedback arrived (safe to run from cron)."""
    from tuneforge.continual import retrain as run_round
    from tuneforge.registry import registry_root
    from tuneforge.tasks import load_config

    cfg = load_config(config, overrides)
    _quiet_libraries()
    run_round(cfg, champion=champion, registry=registry_root(registry), dry_run=dry_run)


@data_app.command("check")
@_user_errors
def data_check(config: ConfigArg, overrides: SetOpt = None) -> None:
    """Validate and profile the data of a config; exits non-zero when rows are bad under on_error: fail."""
    from tuneforge.errors import DataError
    from tuneforge.tasks import check_data, load_config

    cfg = load_config(config, overrides)
    _quiet_libraries()
    try:
        report = check_data(cfg)
    except DataError as exc:
        # Every bad row, not the 50 that an ordinary error message shows.
        err = Console(stderr=True, highlight=False)
        err.print(f"[bold red]error:[/] {exc.args[0]}")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False)
        raise typer.Exit(1) from None
    get_console().print(report.render())


@app.command()
@_user_errors
def predict(
    run_dir: RunArg,
    text: Annotated[list[str] | None, typer.Option("--text", help="A text to classify or tag; repeatable.")] = None,
    input: Annotated[Path | None, typer.Option(help="CSV, TSV, JSONL or Parquet file of texts.")] = None,
    output: Annotated[Path | None, typer.Option(help="Where to write predictions (.csv or .jsonl).")] = None,
    text_column: Annotated[str | None, typer.Option(help="Column of --input; default the run's text column.")] = None,
    user: Annotated[list[str] | None, typer.Option("--user", help="Recommendation: a user id; repeatable.")] = None,
    windows: Annotated[
        bool,
        typer.Option(
            "--windows", help="Classification: read texts longer than max_length in overlapping windows, averaged."
        ),
    ] = False,
) -> None:
    """Predict with a finished run, for texts given inline or in a file; file output keeps the input columns.

    Classification adds label and score; NER entities with character offsets; tabular runs score the rows of
    --input; recommendation runs take --user or --text; chat runs (causal-lm-sft) answer each text."""
    from tuneforge.tasks import load, task_of

    if not text and input is None and not user:
        raise TuneforgeError("give texts with --text or a file with --input")
    if input is not None and output is None:
        raise TuneforgeError("--input needs --output (a .csv or .jsonl path)")
    if empty := [f"--text {i}: empty text" for i, t in enumerate(text or [], 1) if not t.strip()]:
        raise TuneforgeError(f"{len(empty)} empty text(s), which the server refuses too", empty)
    # A non-UTF-8 argument reaches Python as lone surrogates, which no tokenizer reads.
    if broken := [
        f"--text {i}: not valid UTF-8 (is the terminal UTF-8?)"
        for i, t in enumerate(text or [], 1)
        if any("\ud800" <= c <= "\udfff" for c in t)
    ]:
        raise TuneforgeError(f"{len(broken)} text(s) that are not valid UTF-8", broken)
    if user and task_of(run_dir)[0].inputs != "records":
        raise TuneforgeError(f"--user: {run_dir} is a {task_of(run_dir)[1]} run; --user is for recommendation runs")
    _quiet_libraries()
    estimator = load(run_dir)
    options = {"windows": True} if windows else {}
    if windows and "windows" not in inspect.signature(estimator.predict_file).parameters:
        raise TuneforgeError(f"--windows: {run_dir} is not a text classifier; only classification reads windows")
    if user:
        estimator.show([{"user": u} for u in user])
    if text:
        estimator.show(text, **options)
    if input is not None and output is not None:
        estimator.predict_file(input, output, text_column=text_column, **options)


@app.command()
@_user_errors
def evaluate(
    run_dir: RunArg,
    data: Annotated[Path, typer.Option(help="Labelled CSV, TSV, JSONL or Parquet file; NER: CoNLL or span JSONL.")],
) -> None:
    """Evaluate a finished run on a labelled file; writes metrics and a report under RUN_DIR/evaluations/."""
    from tuneforge.tasks import load

    _quiet_libraries()
    load(run_dir).evaluate_file(data)


@app.command()
@_user_errors
def export(
    run_dir: Annotated[
        Path, typer.Argument(help="A finished run directory; with --gguf also a causal-LM dir or alias.")
    ],
    merge: Annotated[
        bool, typer.Option("--merge", help="Fold LoRA/AdaLoRA/IA3/BitFit weights into the model.")
    ] = False,
    gguf: Annotated[
        bool, typer.Option("--gguf", help="One GGUF file for llama.cpp / Ollama (causal-LM runs, Llama architecture).")
    ] = False,
    outtype: Annotated[
        Literal["f16", "f32", "q8_0"], typer.Option(help="GGUF weight type: f16, f32 (exact) or q8_0 (8-bit).")
    ] = "f16",
    output: Annotated[
        Path | None,
        typer.Option(help="Where to write; default RUN_DIR/merged (--merge) or RUN_DIR/model-OUTTYPE.gguf (--gguf)."),
    ] = None,
) -> None:
    """Write a run's model as a plain Hugging Face model dir (--merge) or a GGUF file (--gguf); neither needs PEFT
    or tuneforge."""
    from tuneforge.export import merge_run
    from tuneforge.tasks.causal_lm_sft.gguf import export_gguf

    if merge == gguf:
        raise TuneforgeError(
            "say what to export, one at a time: --merge (a plain Hugging Face model dir) "
            "or --gguf (one file for llama.cpp / Ollama)"
        )
    _quiet_libraries()
    if gguf:
        export_gguf(run_dir, output, outtype)
    else:
        merge_run(run_dir, output)


@app.command()
@_user_errors
def compare(
    config: ConfigArg,
    methods: Annotated[
        str, typer.Option(help="Comma-separated methods, e.g. full,lora,ia3; 'all': every method of the task.")
    ] = "all",
    lr: Annotated[list[str] | None, typer.Option("--lr", help="Learning rate of one method: --lr lora=1e-3")] = None,
    overrides: SetOpt = None,
) -> None:
    """Train several methods with the same data, seed and budget; table and chart in OUTPUT_DIR/compare/."""
    from tuneforge.compare import compare as run_comparison
    from tuneforge.config import parse_overrides
    from tuneforge.tasks import TASKS, load_config

    cfg = load_config(config, overrides)
    named = [m.strip() for m in methods.split(",") if m.strip()]
    chosen = list(TASKS[cfg.task].methods) if methods == "all" else named
    rates = {}
    for name, value in parse_overrides(lr or []).items():
        try:
            rates[name] = float(value)
        except (TypeError, ValueError):
            raise TuneforgeError(f"--lr {name}={value!r}: expected a number, e.g. --lr {name}=1e-3") from None
    _quiet_libraries()
    run_comparison(cfg, chosen, rates)


TemperatureOpt = Annotated[float | None, typer.Option(help="Sampling temperature; 0 is greedy. Default: the run's.")]
MaxTokensOpt = Annotated[int | None, typer.Option(help="Most tokens per answer. Default: the run's.")]
StopOpt = Annotated[list[str] | None, typer.Option("--stop", help="A string that ends an answer; repeatable.")]


@app.command()
@_user_errors
def serve(
    models: Annotated[
        list[str],
        typer.Argument(help="Run dirs or HF causal-LM dirs (name=path to rename); with --registry, model names."),
    ],
    host: Annotated[str | None, typer.Option(help="Interface to bind; default 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port; default 8000.")] = None,
    database: DatabaseOpt = None,
    log_texts: Annotated[bool | None, typer.Option(help="Store request texts (PII-redacted) for feedback.")] = None,
    registry: Annotated[
        Path | None,
        typer.Option(help="Serve each named model's champion from this registry, following promotions and rollbacks."),
    ] = None,
    feedback_new_labels: Annotated[
        bool | None, typer.Option(help="Accept feedback labels the model does not know yet (continual rounds).")
    ] = None,
) -> None:
    """Serve runs over HTTP: predict, OpenAI-compatible chat, feedback, metrics. Limits: TUNEFORGE_* variables."""
    from tuneforge.serve.server import serve as run_server

    _quiet_libraries()
    settings = serve_settings(
        host=host,
        port=port,
        database_url=database,
        log_texts=log_texts,
        registry=registry,
        feedback_new_labels=feedback_new_labels,
    )
    run_server(settings, models)


@app.command()
@_user_errors
def chat(
    run_dir: Annotated[Path, typer.Argument(help="A causal-lm-sft run, or any causal-LM dir or alias.")],
    system: Annotated[str | None, typer.Option(help="System prompt of the conversation.")] = None,
    temperature: TemperatureOpt = None,
    max_new_tokens: MaxTokensOpt = None,
    stop: StopOpt = None,
) -> None:
    """Talk to a chat model in the terminal; answers stream as they are generated."""
    from tuneforge.tasks.causal_lm_sft.files import chat_loop

    _quiet_libraries()
    chat_loop(run_dir, system=system, temperature=temperature, max_new_tokens=max_new_tokens, stop=stop)


@app.command()
@_user_errors
def generate(
    run_dir: Annotated[Path, typer.Argument(help="A causal-lm-sft run, or any causal-LM dir or alias.")],
    input: Annotated[Path, typer.Option(help="JSONL ('messages' or 'question') or CSV ('question') file.")],
    output: Annotated[Path, typer.Option(help="JSONL written: each input row plus 'answer'.")],
    batch_size: Annotated[int, typer.Option(help="Questions answered together (left-padded batch).")] = 8,
    temperature: TemperatureOpt = None,
    max_new_tokens: MaxTokensOpt = None,
    stop: StopOpt = None,
) -> None:
    """Answer every question of a file with a chat model."""
    from tuneforge.tasks.causal_lm_sft.estimator import ChatRun

    _quiet_libraries()
    ChatRun.load(run_dir).predict_file(
        input,
        output,
        batch_size=batch_size,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        stop=stop,
    )
