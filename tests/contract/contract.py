"""One contract check: feed a body to both sides and say how they agree, or raise ``Disagreement``.

Verdicts: ``"accept"`` (both accept), ``"refuse"`` (both refuse) or ``"stricter:<rule>,..."``
(paysvc refuses, the sandbox accepts, and every paysvc error is one of the deliberate
``STRICTER`` rules of ``test_create_order_v2``).
"""

from __future__ import annotations

from tests.contract.cases import PARENTS, REPAIR_BASELINE
from tests.contract.harness import (
    Sandbox,
    SandboxVerdict,
    Stricter,
    direct_body,
    excused_by,
    paysvc_validate,
    repair,
    unexcused,
)


class Disagreement(AssertionError):
    """paysvc and the sandbox disagree on a body; ``kind`` says which way."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


def _short(data: object, limit: int = 600) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return text if len(text) <= limit else text[:limit] + "..."


def _ask(sandbox: Sandbox, body: bytes) -> SandboxVerdict:
    answer = sandbox.create_order(body)
    if answer.code == "crash":
        raise Disagreement("the sandbox crashed", f"{answer.message}\nbody: {_short(body)}")
    return answer


def check(text: str, sandbox: Sandbox, rules: tuple[Stricter, ...]) -> str:
    """The verdict for the merchant body ``text``; raises ``Disagreement``."""
    paysvc = paysvc_validate(text)
    if paysvc.accepted:
        if paysvc.outgoing is None:
            raise Disagreement(
                "paysvc accepts but cannot build the Binance request",
                f"{paysvc.crash}\nbody: {_short(text)}",
            )
        answer = _ask(sandbox, paysvc.outgoing)
        if not answer.accepted:
            raise Disagreement(
                "paysvc accepts, the sandbox refuses (the merchant would get a 502)",
                f"sandbox {answer.code} {answer.message!r}\nsent: {_short(paysvc.outgoing)}"
                f"\nmerchant body: {_short(text)}",
            )
        return "accept"
    answer = _ask(sandbox, direct_body(text))
    if answer.accepted:
        left = unexcused(text, paysvc.errors, rules)
        if left:
            raise Disagreement(
                "paysvc refuses, the sandbox accepts (paysvc stricter than Binance)",
                f"paysvc {left}\nbody: {_short(text)}",
            )
        verdict = "stricter:" + ",".join(sorted(excused_by(text, paysvc.errors, rules)))
    else:
        verdict = "refuse"
    fixed = repair(text, paysvc.errors, REPAIR_BASELINE, PARENTS)
    if fixed is not None:
        fixed_text, fixed_verdict = fixed
        if fixed_verdict.outgoing is None:
            raise Disagreement(
                "paysvc accepts but cannot build the Binance request",
                f"{fixed_verdict.crash}\nbody: {_short(fixed_text)}",
            )
        answer = _ask(sandbox, fixed_verdict.outgoing)
        if not answer.accepted:
            raise Disagreement(
                "paysvc accepts, the sandbox refuses (the merchant would get a 502)",
                f"sandbox {answer.code} {answer.message!r}\nsent: {_short(fixed_verdict.outgoing)}"
                f"\nmerchant body: {_short(fixed_text)} (repaired from {_short(text, 300)})",
            )
    return verdict
