"""Settings for the test suite: the production settings with test-only keys. DATABASE_URL still
chooses the engine, so the same suite runs on SQLite and on PostgreSQL."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("CHANGELOG_HMAC_KEY", "test-changelog-hmac-key")
os.environ.setdefault("PII_ENCRYPTION_KEY", "test-pii-encryption-key")
os.environ.setdefault("PII_HASH_KEY", "test-pii-hash-key")

from tracker.settings import *  # noqa: F403

CHANGELOG_ALLOW_PURGE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"
# The test client speaks plain HTTP; production settings redirect it to HTTPS.
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Tests never collect static files; without a root WhiteNoise has nothing to index (and no warning).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# The suite logs in and calls the API far faster than any person; the throttle tests set real limits
# with override_settings.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        scope: "100000/minute"
        for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # noqa: F405
    },
}

# Job kinds the tests need (a slow job to kill a worker in the middle of).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.support"]  # noqa: F405
# Tests run each in a transaction another connection cannot see: jobs report progress on the test's own.
JOB_PROGRESS_DATABASE = "default"

# A second database standing for a read replica (tests/tracker/test_replicas.py): its own test
# database, created only for the tests that ask for it (pytest-django sets up the aliases tests
# name), filled by those tests. Reads go there only where a test sets READ_REPLICA_DATABASE; the
# rest of the suite reads and writes the primary alone, whatever DATABASE_REPLICA_URL says.
_primary = DATABASES["default"]  # noqa: F405
DATABASES["replica"] = {  # noqa: F405
    **_primary,
    "TEST": {
        "NAME": None
        if _primary["ENGINE"] == "django.db.backends.sqlite3"  # in memory, one per alias
        else f"test_{_primary['NAME']}_replica"
    },
}
READ_REPLICA_DATABASE = None

# Every reuse of a compiled read statement (tracker.statements) is compared with what the ORM
# compiles for the same request, so the whole suite holds the cache to the ORM. The benchmarks,
# which run on these settings too, turn it off (it builds each read twice).
READ_STATEMENTS_CHECK = os.environ.get("READ_STATEMENTS_CHECK", "true") == "true"
