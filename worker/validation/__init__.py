"""Row-local validation and normalisation: the validator (:mod:`.validator`), the rules that
make a value a problem (:mod:`.rules`) and the normalisers (:mod:`.normalise`)."""

from worker.validation.normalise import name_case, normalise_name, normalize_email, phone_e164
from worker.validation.rules import email_problem
from worker.validation.validator import RowValidator

__all__ = [
    "RowValidator",
    "email_problem",
    "name_case",
    "normalise_name",
    "normalize_email",
    "phone_e164",
]
