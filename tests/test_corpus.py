"""corpus/ scored by `reviewbot eval` with its own thresholds (1.0/1.0): how CI runs eval."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.review.evaluate import find_cases

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


def test_every_corpus_mail_has_an_expect_file() -> None:
    mails = sorted(CORPUS.rglob("*.mbox"))
    annotated = sorted(c.mail for c in find_cases([CORPUS]))
    assert mails == annotated
    assert len(mails) >= 7


def test_eval_on_the_corpus_passes_its_thresholds(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # `reviewbot eval` with no PATH reads corpus/ and corpus/eval.yaml
    status = main(["eval"])
    out = capsys.readouterr().out
    assert "thresholds: precision >= 1.00, recall >= 1.00" in out, out
    assert status == 0, out
    total = next(line.split() for line in out.splitlines() if line.startswith("all "))
    assert total[2:4] == ["0", "0"] and total[4:] == ["1.00", "1.00"], out
    assert int(total[1]) >= 12
