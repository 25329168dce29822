"""The readiness probe: what ``plaid-ready check`` checks without a user, on a schedule, inside the account.

EventBridge Scheduler invokes it every ``probe.intervalMinutes`` (components/probe.py). Each run performs the
checks of checks.py and emits, per check, one EMF metric ``CheckFailed.<ID>`` (1 failed, 0 otherwise) and
``ChecksFailed`` (how many failed: the stack's alarm watches it), namespace PlaidReadyIdp, dimension
``service=readiness-probe``; one log line per check (Powertools Logger; never a response body, never a token).
The signing-key ids are kept between runs in the SSM parameter the probe owns (``PROBE_STATE_PARAMETER``: read
and written with boto3, which the Lambda runtime provides). A missing or invalid configuration is logged at cold
start and makes every run fail (``ChecksFailed`` 1, the alarm fires) without a traceback.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lambdas.readiness_probe import checks, names
from lambdas.readiness_probe import config as config_mod

logger = Logger(service=names.SERVICE, json_deserializer=str)
metrics = Metrics(namespace=names.METRICS_NAMESPACE, service=names.SERVICE)


class SsmStore:
    """The probe's state in its SSM parameter (a String; the component creates it and ignores its value)."""

    def __init__(self, parameter: str, client: Any = None) -> None:  # noqa: ANN401 - a boto3 SSM client
        self.parameter = parameter
        self._client = client

    def _ssm(self) -> Any:  # noqa: ANN401
        if self._client is None:
            import boto3  # the Lambda runtime's; imported on first use

            self._client = boto3.client("ssm")
        return self._client

    def read(self) -> str | None:
        try:
            value = self._ssm().get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except Exception as exc:  # noqa: BLE001 - botocore's errors, described by code only
            if _code(exc) == "ParameterNotFound":
                return None
            raise checks.StateError(f"ssm:GetParameter {_code(exc) or type(exc).__name__}") from None
        return value if isinstance(value, str) else None

    def write(self, text: str) -> None:
        try:
            self._ssm().put_parameter(Name=self.parameter, Value=text, Type="String", Overwrite=True)
        except Exception as exc:  # noqa: BLE001
            raise checks.StateError(f"ssm:PutParameter {_code(exc) or type(exc).__name__}") from None


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else ""


class _State:
    """Module-scope state: the configuration, the store and the TLS context, built once per cold start."""

    def __init__(self, environ: Mapping[str, str], tls: ssl.SSLContext | None = None, ssm: Any = None) -> None:  # noqa: ANN401
        self.error: str | None = None
        self.config: config_mod.Config | None = None
        self.store: checks.StateStore | None = None
        self.tls = tls
        try:
            self.config = config_mod.load(environ)
            self.store = SsmStore(self.config.state_parameter, ssm)
        except config_mod.ConfigError as exc:
            self.error = str(exc)
            logger.error("invalid configuration: every run fails until it is fixed", extra={"config_error": self.error})


_state = _State(os.environ)


def configure(environ: Mapping[str, str], *, tls: ssl.SSLContext | None = None, ssm: Any = None) -> None:  # noqa: ANN401
    """Rebuild the module state (what a cold start does); tests pass a TLS context trusting their CA and an SSM
    client."""
    global _state
    _state = _State(environ, tls, ssm)


def handler(event: Any, context: Any) -> dict[str, Any]:  # noqa: ANN401 - the scheduler's event, Lambda's context
    """One probe run; returns the summary (the scheduler ignores it; a manual invoke shows it)."""
    state = _state
    if state.config is None or state.store is None:
        metrics.add_metric(name=names.METRIC_CHECKS_FAILED, unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        return {"ok": False, "failed": ["CONFIG"], "error": state.error}
    results = checks.run(state.config, store=state.store, now=time.time(), tls=state.tls)
    failed = [r.check_id for r in results if r.failed]
    for r in results:
        metrics.add_metric(name=names.METRIC_FAILED_PREFIX + r.check_id, unit=MetricUnit.Count,
                           value=1 if r.failed else 0)
        log = logger.error if r.failed else logger.warning if r.finding.status == "warn" else logger.info
        log(f"{r.check_id} {r.finding.status}", extra={"check": r.check_id, "status": r.finding.status.value,
                                                        "detail": r.finding.detail})
    metrics.add_metric(name=names.METRIC_CHECKS_FAILED, unit=MetricUnit.Count, value=len(failed))
    metrics.flush_metrics()
    return {"ok": not failed, "failed": failed,
            "checks": {r.check_id: r.finding.status.value for r in results}}
