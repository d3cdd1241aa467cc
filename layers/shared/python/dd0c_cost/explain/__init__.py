"""The optional explanation: two or three sentences from an OpenAI-compatible model that explain
an anomaly from its facts and suggest one action.

- Configured per deployment: ``DD0C_LLM_BASE_URL``, ``DD0C_LLM_MODEL``, ``DD0C_LLM_API_KEY`` (in
  AWS the key may also be ``llm_api_key`` in the Slack secret). Unset: no explanations.
- Never in the way: the alert is posted first; the explanation is asked for afterwards, with a
  hard deadline of ``DEADLINE_S`` (≤ 2 s, enforced on the whole call, not per socket read), and
  the message is updated only if text arrived in time.
- A circuit breaker stops calling an endpoint that keeps failing: after ``BREAKER_FAILURES``
  failures in a row it stays open for ``BREAKER_COOLDOWN_S``, then lets one call through.
- The prompt carries facts, never secrets: no ARNs, account ids, resource ids, IP addresses,
  access keys or tokens (``scrub`` removes anything shaped like them as a last guard).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from dd0c_cost.scoring.models import Anomaly
from dd0c_cost.settings import Settings

logger = logging.getLogger(__name__)

DEADLINE_S = 2.0
BREAKER_FAILURES = 3
BREAKER_COOLDOWN_S = 60.0
MAX_TOKENS = 160
MAX_TEXT = 600

SYSTEM_PROMPT = (
    "You explain AWS cost anomalies to an on-call engineer woken at night. In two or three short "
    "sentences: say what most likely happened and why it costs this much, then suggest exactly one "
    "concrete next step. Use only the facts given; do not invent names, numbers or resources."
)

_SCRUB = [
    (re.compile(r"arn:aws[a-z-]*:[^\s,;]+"), "[arn]"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{12,20}\b"), "[key]"),
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), "[token]"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "[ip]"),
    (re.compile(r"\b[0-9a-fA-F:]{2,}:[0-9a-fA-F:]{2,}\b"), "[ip]"),
    (re.compile(r"\b\d{12}\b"), "[account]"),
    (re.compile(r"\b(?:i|vol|snap|nat|eipalloc|sg|subnet|vpc)-[0-9a-f]{8,17}\b"), "[resource]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def _actor_kind(actor: str) -> str:
    if ":root" in actor:
        return "the account's root user"
    if "assumed-role/AWSServiceRoleFor" in actor:
        return "an AWS service acting for the account"
    if "assumed-role/" in actor:
        return "a person or automation through an IAM role"
    if ":user/" in actor:
        return "an IAM user"
    return "a principal of the account"


def prompt(anomaly: Anomaly) -> str:
    """The facts the model sees (and nothing else)."""
    from dd0c_cost.notify.message import format_rate, what_line

    lines = [
        f"What was bought: {what_line(anomaly)} (service {anomaly.service}, region {anomaly.region}).",
        f"Cost: {format_rate(anomaly.estimated_hourly_usd)}.",
        f"Severity: {anomaly.severity.value}, score {anomaly.score:.2f}.",
        f"Who: {_actor_kind(anomaly.actor)}.",
        "Why it was flagged:",
        *(f"- {c.reason}" for c in sorted(anomaly.components, key=lambda c: -c.value) if c.value > 0),
    ]
    return scrub("\n".join(lines))


@dataclass
class _Breaker:
    failures: int = 0
    open_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, now: float) -> bool:
        with self.lock:
            return now >= self.open_until

    def record(self, ok: bool, now: float) -> None:
        with self.lock:
            if ok:
                self.failures = 0
                self.open_until = 0.0
                return
            self.failures += 1
            if self.failures >= BREAKER_FAILURES:
                self.open_until = now + BREAKER_COOLDOWN_S


@dataclass(frozen=True)
class Explanation:
    status: str  # ok | timeout | error | circuit_open
    text: str | None = None
    model: str | None = None
    elapsed_s: float = 0.0


class Explainer:
    """One per process (endpoint), with its breaker and one worker thread."""

    def __init__(
        self, base_url: str, model: str, api_key: str, *, deadline_s: float | None = None, clock=time.monotonic
    ):
        # DEADLINE_S is read here, not bound as a default, so a test can widen it in one place.
        deadline = DEADLINE_S if deadline_s is None else min(deadline_s, DEADLINE_S)
        self.base_url, self.model, self.deadline_s, self.clock = base_url, model, deadline, clock
        self._api_key = api_key
        self.breaker = _Breaker()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dd0c-explain")
        self._client = None

    def client(self):
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(base_url=self.base_url, api_key=self._api_key, timeout=self.deadline_s, max_retries=0)
        return self._client

    def _call(self, text: str) -> str:
        response = self.client().chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}],
            max_tokens=MAX_TOKENS,
            temperature=0.2,
        )
        content = (response.choices[0].message.content or "").strip()
        if not content:
            raise ValueError("empty answer")
        return content[:MAX_TEXT]

    def explain(self, anomaly: Anomaly) -> Explanation:
        if not self.breaker.allow(self.clock()):
            return Explanation("circuit_open", model=self.model)
        self.client()  # importing and building the client (once per process) is not the model's time
        started = self.clock()
        future = self._pool.submit(self._call, prompt(anomaly))
        try:
            text = future.result(timeout=self.deadline_s)
        except FutureTimeout:
            future.cancel()
            self.breaker.record(False, self.clock())
            return Explanation("timeout", model=self.model, elapsed_s=self.clock() - started)
        except Exception as exc:  # noqa: BLE001 - the model's trouble never reaches the alert
            from openai import APITimeoutError

            # The client's own timeout is the same deadline: whichever clock fires first, a model
            # too slow to answer is a timeout (under load the HTTP one often wins), not an error.
            status = "timeout" if isinstance(exc, APITimeoutError) else "error"
            if status == "error":
                logger.warning("explanation failed: %s", exc.__class__.__name__)
            self.breaker.record(False, self.clock())
            return Explanation(status, model=self.model, elapsed_s=self.clock() - started)
        self.breaker.record(True, self.clock())
        return Explanation("ok", text=text, model=self.model, elapsed_s=self.clock() - started)


_explainers: dict[tuple[str, str], Explainer] = {}
_lock = threading.Lock()


def explainer_for(settings: Settings) -> Explainer | None:
    """The deployment's explainer, or None when no model is configured."""
    if not (settings.llm_base_url and settings.llm_model and settings.llm_api_key):
        return None
    key = (settings.llm_base_url, settings.llm_model)
    with _lock:
        if key not in _explainers:
            _explainers[key] = Explainer(settings.llm_base_url, settings.llm_model, settings.llm_api_key)
        return _explainers[key]


def reset_explainers() -> None:
    with _lock:
        _explainers.clear()


__all__ = ["DEADLINE_S", "Explainer", "Explanation", "explainer_for", "prompt", "reset_explainers", "scrub"]
