from tests.beneficiaries.conftest import groups  # noqa: F401  (fixtures shared with those suites)
from tests.programs.conftest import fund, make_program, person, person_in, program  # noqa: F401
