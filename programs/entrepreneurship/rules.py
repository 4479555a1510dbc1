"""Interest on guaranteed loans and who bears it. Pure functions; each refusal a named code.

- Upper-level finance (上级财政贴息): under the national guaranteed-loan policy (财金〔2020〕21号) the
  borrower bears the interest up to LPR − 150 basis points and finance subsidises the rest. The
  digest does not print the rate or the LPR; UPPER_BORROWER_RATE (2.35% = the 2021 one-year LPR of
  3.85% − 1.50) is an ASSUMPTION, stated in the seed data too.
- Jinnan (R005, digest lines 158-162): 2021 年发放的个人创业担保贷款利息中，除上级财政贴息以外，贷款期限内借款人
  承担的利息由津南区财政给予全额补贴 — for loans issued in 2021 in 津南区 the district pays the
  borrower's share in full. DISTRICT_PAYS_BORROWER_SHARE lists (region code, year) pairs.
"""

from __future__ import annotations

import decimal

CENT = decimal.Decimal("0.01")
UPPER_BORROWER_RATE = decimal.Decimal("0.0235")
DISTRICT_PAYS_BORROWER_SHARE: frozenset[tuple[str, int]] = frozenset({("120112", 2021)})

NO_REGISTRY_PERSON = "NO_REGISTRY_PERSON"
ALREADY_PAID = "ALREADY_PAID"
NOT_A_DISTRICT_SHARE = "NOT_A_DISTRICT_SHARE"


def interest_owed(amount: decimal.Decimal, annual_rate: decimal.Decimal, term_months: int) -> decimal.Decimal:
    """Simple interest over the term (the lenders' contracts state simple annual interest)."""
    return (amount * annual_rate * term_months / 12).quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def district_pays_borrower_share(region_path: str, year: int) -> bool:
    codes = set(region_path.strip("/").split("/"))
    return any(code in codes and year == y for code, y in DISTRICT_PAYS_BORROWER_SHARE)


def interest_shares(
    *, amount: decimal.Decimal, annual_rate: decimal.Decimal, term_months: int, region_path: str, year: int
) -> dict[str, decimal.Decimal]:
    """{level: amount} for "upper", "district" and "borrower"; the three add up to the interest."""
    total = interest_owed(amount, annual_rate, term_months)
    borrower = interest_owed(amount, min(annual_rate, UPPER_BORROWER_RATE), term_months)
    upper = total - borrower
    district = decimal.Decimal("0.00")
    if district_pays_borrower_share(region_path, year):
        district, borrower = borrower, decimal.Decimal("0.00")
    return {"upper": upper, "district": district, "borrower": borrower}
