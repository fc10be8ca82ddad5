"""Server settings: keyword arguments, or environment variables with the TUNEFORGE_ prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tuneforge.serve.schemas import MAX_TEXT_CHARS, MAX_TEXTS

__all__ = ["Settings"]


class Settings(BaseSettings):
    """`TUNEFORGE_DATABASE_URL=postgresql://... tuneforge serve runs/demo` or `Settings(database_url=...)`."""

    model_config = SettingsConfigDict(env_prefix="TUNEFORGE_", frozen=True, extra="ignore")

    host: str = Field("127.0.0.1", description="Interface to bind; 0.0.0.0 exposes the server to the network.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port.")
    database_url: str = Field(
        "sqlite:///tuneforge-serve.db", description="Keys, prediction log and feedback; SQLite or postgresql://."
    )
    log_texts: bool = Field(False, description="Store request texts (after PII redaction) for feedback export.")
    max_body_bytes: int = Field(1_000_000, gt=0, description="Larger request bodies get 413.")
    max_texts: int = Field(MAX_TEXTS, gt=0, le=MAX_TEXTS, description="Texts per predict request.")
    max_text_chars: int = Field(
        MAX_TEXT_CHARS, gt=0, le=MAX_TEXT_CHARS, description="Characters per text (and per chat message)."
    )
    rate_limit_per_minute: int = Field(1200, gt=0, description="Requests per API key per minute; then 429.")
    max_batch_size: int = Field(32, gt=0, description="Texts run through a model together.")
    # 5 ms: a few requests' worth of arrivals under load, invisible next to a ~10 ms CPU forward pass.
    max_wait_ms: float = Field(5.0, ge=0, description="How long a lone request waits for others to batch with.")
    max_queue: int = Field(512, gt=0, description="Texts waiting per model; beyond it requests get 503.")
    # One worker with every core but one: the event loop (HTTP, auth, JSON) keeps a core. Measured on 2 busy cores
    # with 32 clients (15 s each): 26 req/s with 1 worker x 1 thread, 19 with 2 workers x 1 thread.
    batch_workers: int = Field(1, gt=0, description="Batches of one model computed at the same time.")
    torch_threads: int | None = Field(
        None, gt=0, description="Intra-op threads per batch worker; default (CPU cores - 1) / batch_workers."
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Text models' matmuls in bf16 (autocast; weights stay fp32). auto: bf16 on CPUs with bf16 "
        "instructions, where it is 2-4x faster.",
    )
    key_cache_seconds: float = Field(
        5.0, ge=0, description="A verified key is re-checked after this; revocation delay."
    )
    max_new_tokens: int = Field(512, gt=0, description="Upper bound of a chat request's max_tokens.")
    model_roots: list[Path] = Field(
        default_factory=list,
        description="Folders whose runs POST /admin/models/{name}/reload may load (TUNEFORGE_MODEL_ROOTS as a JSON "
        "list); default: the folder above each model served at start.",
    )
    registry: Path | None = Field(
        None,
        description="A model registry folder (tuneforge models): model arguments are names in it; each serves its "
        "champion and switches when the champion changes.",
    )
    feedback_new_labels: bool = Field(
        False,
        description="Accept a feedback label outside the model's labels (a plausible class name), so that a "
        "retraining round can learn new classes from corrections.",
    )
