from tests.backoffice.fixtures import (  # noqa: F401 - fixtures
    _clean_cache,
    _fast_password_hasher,
    finance,
    finance_user,
    root,
    superuser,
    support,
    support_user,
)
