"""The prediction log writer: requests hand their predictions over without waiting; one thread writes them in
bulk, so a busy server commits a few times a second instead of once per request.
"""

from __future__ import annotations

import logging
import queue
import threading

from tuneforge.serve.feedback import FeedbackStore, LoggedChat, LoggedPrediction

__all__ = ["PredictionLog"]

log = logging.getLogger("tuneforge.serve")
_STOP = None


class PredictionLog:
    def __init__(self, store: FeedbackStore, *, max_rows: int = 1000) -> None:
        self.store, self.max_rows = store, max_rows
        self._queue: queue.SimpleQueue[tuple[str, str, LoggedPrediction | LoggedChat] | None] = queue.SimpleQueue()
        # id -> model of the predictions handed over but not yet committed: feedback may follow at once.
        self._pending: dict[str, str] = {}
        self._pending_lock = threading.Lock()
        self._thread = threading.Thread(target=self._write, name="tuneforge-predlog", daemon=True)
        self._thread.start()

    def add(self, model: str, task: str, predictions: list[LoggedPrediction | LoggedChat]) -> None:
        with self._pending_lock:
            self._pending.update((prediction.id, model) for prediction in predictions)
        for prediction in predictions:
            self._queue.put((model, task, prediction))

    def model_of(self, prediction_id: str) -> str | None:
        """The model that made a logged prediction (committed or still queued), or None for an unknown id."""
        with self._pending_lock:
            model = self._pending.get(prediction_id)
        return model or self.store.model_of(prediction_id)

    def close(self) -> None:
        """Write what is queued, then stop."""
        self._queue.put(_STOP)
        self._thread.join()

    def _write(self) -> None:
        stopping = False
        while not stopping:
            rows = [self._queue.get()]
            while len(rows) < self.max_rows and not self._queue.empty():
                rows.append(self._queue.get())
            stopping = _STOP in rows
            rows = [row for row in rows if row is not _STOP]
            if not rows:
                continue
            try:
                self.store.insert_predictions(rows)  # type: ignore[arg-type]
            except Exception:  # a lost log batch must not stop serving; it is reported
                log.exception("writing %d logged predictions failed", len(rows))
            with self._pending_lock:  # committed (or lost): the store answers for them now
                for _model, _task, prediction in rows:  # type: ignore[misc]
                    self._pending.pop(prediction.id, None)
