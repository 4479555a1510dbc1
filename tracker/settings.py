"""Django settings for tracker. Every value that differs between machines comes from the environment
(see .env.example); bad values fail loudly at start-up."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tracker.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"


def _derived_key(name: str) -> str:
    """Separate secrets for separate purposes. In production each must be set on its own; in DEBUG a
    missing one is derived from SECRET_KEY so `make run` works with no configuration."""
    value = env_str(name)
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is false")
    return hashlib.sha256(f"{name}:{SECRET_KEY}".encode()).hexdigest()


# Key for the change log's HMAC (tamper evidence). Never stored in the database.
CHANGELOG_HMAC_KEY = _derived_key("CHANGELOG_HMAC_KEY")
# Keys for personal data: encryption at rest, and the keyed hash used for exact-match lookup.
PII_ENCRYPTION_KEY = _derived_key("PII_ENCRYPTION_KEY")
PII_HASH_KEY = _derived_key("PII_HASH_KEY")
# Only the test suite turns this on: it lets `flush` (used between transactional tests) empty the
# append-only change log.
CHANGELOG_ALLOW_PURGE = False

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "import_export",
    # the core every app stands on
    "tracker.regions",
    "tracker.accounts",
    "tracker.changelog",
    # the registry
    "beneficiaries",
    # programs
    "programs.funding",
    # seed data and the `seed` command
    "seeds",
]

MIDDLEWARE = [
    "tracker.changelog.middleware.RequestContextMiddleware",
    "tracker.api.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (the admin's) from the app server itself.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After LocaleMiddleware, so its 405 problem speaks the client's language.
    "tracker.api.middleware.RejectUnknownMethodMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tracker" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "tracker.wsgi.application"

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Take the write lock when a transaction starts, so two requests cannot both read a record
        # and then both write it (SQLite has no SELECT ... FOR UPDATE).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "tracker" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_ROOT = BASE_DIR / "var" / "media"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tracker.api.permissions.RolePermission"],
    "DEFAULT_PARSER_CLASSES": ["tracker.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "tracker.api.filters.StrictFilterBackend",
        "tracker.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tracker.api.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
    # `?format=` means the file type on the export and template views; DRF's own use of it (pick a
    # renderer, 404 when none is called that) answered 404 before even checking the method.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "tracker API",
    "DESCRIPTION": (
        "Workforce-program tracking for local human-resources and social-security bureaus: "
        "regions, beneficiaries, programs and payments, and the audit trail."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Enum names for choices that several serializers share, so the schema names them once.
    "ENUM_NAME_OVERRIDES": {
        "EmploymentStatusEnum": "beneficiaries.choices.EmploymentStatus",
        "FollowUpStatusEnum": "beneficiaries.choices.FollowUpStatus",
        "DeactivationReasonEnum": "beneficiaries.choices.DeactivationReason",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tracker.api.schema.add_problem_responses",
        "tracker.api.schema.strict_query_parameters",
        "tracker.api.schema.english_names",
    ],
    # English whatever the request's language (see tracker/api/schema.py).
    "DEFAULT_GENERATOR_CLASS": "tracker.api.schema.EnglishSchemaGenerator",
}

# Deepest nesting of arrays/objects a JSON body may have (deeper: 400, see tracker/api/parsers.py).
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 32)
# Seconds a client is told to wait (Retry-After) when the database is unavailable (503).
DATABASE_RETRY_AFTER = env_int("DATABASE_RETRY_AFTER", 5)

# Cap on the size of uploaded request bodies read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Domain settings -----------------------------------------------------------------------------------
# Days after a move into unemployment by which a follow-up service is due (就业转失业 → 跟踪服务).
FOLLOW_UP_DUE_DAYS = env_int("FOLLOW_UP_DUE_DAYS", 15)
# Dynamic monitoring: a person's employment status is stale after this many days without verification.
MONITORING_INTERVAL_DAYS = env_int("MONITORING_INTERVAL_DAYS", 90)
# Largest beneficiary import accepted, in bytes.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# Most rows one beneficiary import may hold.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
