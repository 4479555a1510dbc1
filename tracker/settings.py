"""Django settings for tracker. Every value that differs between machines comes from the environment
(see .env.example); bad values fail loudly at start-up."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tracker.env import env_bool, env_int, env_list, env_rate, env_str

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
    "tracker.apps.TrackerAdminConfig",  # django.contrib.admin with a throttled log-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI's and ReDoc's files, served by this service (tracker/api/docs.py)
    "drf_spectacular_sidecar",
    # the core every app stands on
    "tracker.regions",
    "tracker.accounts",
    "tracker.changelog",
    "tracker.api",
    "tracker.jobs",
    # the registry
    "beneficiaries",
    # programs
    "programs.funding",
    "programs.posts",
    "programs.vouchers",
    "programs.entrepreneurship",
    "programs.targets",
    "programs.inspections",
    "programs.reports",
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
    # A second connection to the same database, on which running jobs report progress while their
    # own transaction is still open (tracker.jobs.services).
    DATABASES["job_progress"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
JOB_PROGRESS_DATABASE = "job_progress" if "job_progress" in DATABASES else "default"

# Read replica (tracker/db_routers.py): with DATABASE_REPLICA_URL, exports and reports read from it
# inside `read_from_replica()`; writes, reads in a write transaction and every other read stay on the
# primary. A replica of another engine than the primary is refused.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    _replica = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must use the same engine as DATABASE_URL")
    if _replica["ENGINE"] == "django.db.backends.sqlite3":
        _replica.update(CONN_MAX_AGE=0, OPTIONS={"timeout": 20})
    else:
        _replica["CONN_HEALTH_CHECKS"] = True
    # A test run never reads a real replica: its test database is the primary's.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
READ_REPLICA_DATABASE = "replica" if DATABASE_REPLICA_URL else None

# Compiled reads (tracker.statements) ask PostgreSQL to prepare their statements, so a read's plan is
# made once per connection. psycopg prepares only on a connection that allows it, and Django turns
# that off unless OPTIONS say otherwise (for transaction-pooling proxies such as older pgbouncer:
# set READ_STATEMENTS_PREPARED=false behind one). Django's own cursors bind on the client and never
# prepare either way.
READ_STATEMENTS_PREPARED = env_bool("READ_STATEMENTS_PREPARED", True)
if READ_STATEMENTS_PREPARED:
    for _database in DATABASES.values():
        if _database["ENGINE"] == "django.db.backends.postgresql":
            _database.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
DATABASE_ROUTERS = ["tracker.db_routers.PrimaryReplicaRouter"]

AUTH_USER_MODEL = "accounts.User"
# Django's model backend behind the log-in lock-out (tracker/accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["tracker.accounts.backends.LockoutModelBackend"]
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
# Uploaded import files and job result files. With web and worker processes on several machines this
# must be one directory all of them mount (a worker writes a result that any web instance serves).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "var" / "media")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracker.accounts.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tracker.api.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": [
        "tracker.accounts.throttles.AnonymousThrottle",
        "tracker.accounts.throttles.RoleThrottle",
    ],
    # `<count>/<second|minute|hour|day>`; see tracker/accounts/throttles.py.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("THROTTLE_RATE_ANON", "60/minute"),
        "clerk": env_rate("THROTTLE_RATE_CLERK", "600/minute"),
        "reviewer": env_rate("THROTTLE_RATE_REVIEWER", "600/minute"),
        "inspector": env_rate("THROTTLE_RATE_INSPECTOR", "300/minute"),
        "analyst": env_rate("THROTTLE_RATE_ANALYST", "300/minute"),
        "login_ip": env_rate("THROTTLE_RATE_LOGIN_IP", "60/minute"),
        "login_username": env_rate("THROTTLE_RATE_LOGIN_USERNAME", "10/minute"),
    },
    # Proxies in front of the service that append to X-Forwarded-For; the client address is taken from
    # there only behind them (0: REMOTE_ADDR, which a client cannot forge).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
    "DEFAULT_PARSER_CLASSES": ["tracker.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "tracker.api.negotiation.RememberingContentNegotiation",
    "DEFAULT_RENDERER_CLASSES": [
        "tracker.api.reads.ORJSONRenderer",
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
        "regions, beneficiaries, programs and payments, and the audit trail.\n\n"
        "**Authentication.** Log in with `POST /api/v1/auth/token/` and send the token on every call "
        "as `Authorization: Token <key>` (the word `Token`, a space, the key). Here, press "
        "**Authorize** and paste `Token <key>`, prefix included.\n\n"
        "**Entry points:** `GET /api/v1/`. **Errors** are RFC 9457 problem details; each `type` "
        "(`/problems/404`, ...) is a page describing that problem (`/problems/`). Lists are "
        "cursor-paginated: follow `next` / `previous`, or pass `next_cursor` / `previous_cursor` as "
        "`cursor`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Enum names for choices that several serializers share, so the schema names them once, and
    # names that say whose choices they are (a generated client's `KindEnum` said nothing).
    "ENUM_NAME_OVERRIDES": {
        "EmploymentStatusEnum": "beneficiaries.choices.EmploymentStatus",
        "FollowUpStatusEnum": "beneficiaries.choices.FollowUpStatus",
        "FollowUpServiceEnum": "beneficiaries.choices.FollowUpService",
        "DeactivationReasonEnum": "beneficiaries.choices.DeactivationReason",
        "AttendanceSourceEnum": "programs.posts.choices.AttendanceSource",
        "InstitutionStatusEnum": "programs.funding.choices.InstitutionStatus",
        "VoucherStatusEnum": "programs.vouchers.choices.VoucherStatus",
        "SkillLevelEnum": "programs.vouchers.choices.SkillLevel",
        "RegionLevelEnum": "tracker.regions.choices.RegionLevel",
        "DatumEnum": "programs.vouchers.choices.Datum",
        "ClaimChannelEnum": "programs.vouchers.choices.ClaimChannel",
        "ProgramKindEnum": "programs.funding.choices.ProgramKind",
        "ProgramUnitEnum": "programs.funding.choices.Unit",
        "EmployerSizeEnum": "programs.funding.choices.EmployerSize",
        "IndustryEnum": "programs.funding.choices.Industry",
        "HouseholdRelationEnum": "beneficiaries.choices.HouseholdRelation",
        "RegistrationKindEnum": "beneficiaries.choices.RegistrationKind",
        "EntrepreneurKindEnum": "programs.entrepreneurship.choices.EntrepreneurKind",
        "GovernmentLevelEnum": "programs.entrepreneurship.choices.GovernmentLevel",
        "TargetMeasureEnum": "programs.targets.choices.Measure",
        "ComplaintChannelEnum": "programs.inspections.choices.ComplaintChannel",
        "ComplaintCategoryEnum": "programs.inspections.choices.ComplaintCategory",
        "PostCategoryEnum": "programs.posts.choices.PostCategory",
        "ItemResultEnum": "programs.inspections.choices.ItemResult",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tracker.api.schema.add_problem_responses",
        "tracker.api.schema.strict_query_parameters",
        "tracker.api.schema.english_names",
        "tracker.api.schema.readable_component_names",
        "tracker.api.schema.shared_enums_for_parameters",
        "tracker.api.schema.token_first",
    ],
    # English whatever the request's language (see tracker/api/schema.py).
    "DEFAULT_GENERATOR_CLASS": "tracker.api.schema.EnglishSchemaGenerator",
    # The docs load nothing from another host (a bureau's 政务外网 reaches none): Swagger UI, ReDoc
    # and the favicon come from drf-spectacular-sidecar, served as static files (`make run`: Django's
    # staticfiles in DEBUG; `make serve`: WhiteNoise after collectstatic).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        # Off: Swagger UI reads `_` in a deep link (`#/me/me_retrieve`, every operation id has one) as
        # an escaped blank and logs a console error for it on every such link or reload.
        "deepLinking": False,
        # No badge from the public validator (another host).
        "validatorUrl": None,
        "displayOperationId": True,
        "filter": True,
        # Tags folded: with every app's operations open, the page takes many seconds to render.
        "docExpansion": "none",
    },
    "REDOC_UI_SETTINGS": {"hideDownloadButton": False, "expandResponses": "200,201"},
}

# The cache holds the request-rate counts. With several worker processes it must be one for all:
# Redis (REDIS_URL), which every deployment beyond one process should set. Without it (the embedded
# `make run`, one process) the counts are kept in the process's memory. It is never the database:
# counting there would turn every read into a write (on SQLite, behind one global write lock).
# Lock-outs after failed log-ins are kept in the database either way (tracker.accounts.lockout).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tracker",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Log-in and tokens ----------------------------------------------------------------------------------
# This many failed log-ins for one username within LOGIN_LOCKOUT_SECONDS lock it for that long.
LOGIN_LOCKOUT_FAILURES = env_int("LOGIN_LOCKOUT_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# An API token unused for this long expires (the client logs in again).
TOKEN_IDLE_SECONDS = env_int("TOKEN_IDLE_SECONDS", 8 * 3600, minimum=60)

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
# A personnel change of a public-welfare post (hire, end, replacement) reported more than this many
# days after it took effect is marked late (programs.posts).
POST_CHANGE_LATE_DAYS = env_int("POST_CHANGE_LATE_DAYS", 30)
# Largest beneficiary import accepted, in bytes.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# Most rows one beneficiary import may hold (empty rows count).
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
# XLSX imports: largest unpacked size of the worksheet (or any part read), and of the shared-strings
# table kept in memory while reading (beneficiaries/xlsx.py).
IMPORT_XLSX_MAX_UNPACKED_BYTES = env_int("IMPORT_XLSX_MAX_UNPACKED_BYTES", 256 * 1024 * 1024)
IMPORT_XLSX_MAX_SHARED_STRINGS_BYTES = env_int("IMPORT_XLSX_MAX_SHARED_STRINGS_BYTES", 64 * 1024 * 1024)
# Identity numbers registered outside a user's region that one user may submit in imports per hour
# (beneficiaries/probes.py); beyond it imports answer 429.
DUPLICATE_PROBE_LIMIT = env_int("DUPLICATE_PROBE_LIMIT", 20)
# Training vouchers (programs/vouchers): subsidised trainings one person may take per calendar year
# (the national rule, 国办发〔2019〕24号: 每人每年享受职业培训补贴不超过 3 次); minutes before a session
# starts that a check-in is accepted; wrong claim proofs that lock claiming a voucher, and how long.
VOUCHER_MAX_SUBSIDISED_PER_YEAR = env_int("VOUCHER_MAX_SUBSIDISED_PER_YEAR", 3, minimum=1)
VOUCHER_CHECK_IN_EARLY_MINUTES = env_int("VOUCHER_CHECK_IN_EARLY_MINUTES", 15, minimum=0)
VOUCHER_CLAIM_MAX_FAILURES = env_int("VOUCHER_CLAIM_MAX_FAILURES", 5, minimum=1)
VOUCHER_CLAIM_LOCK_SECONDS = env_int("VOUCHER_CLAIM_LOCK_SECONDS", 3600, minimum=1)

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background jobs (tracker.jobs) ----------------------------------------------------------------------
# Celery with Redis as broker and result backend. Without CELERY_BROKER_URL (the embedded `make run`)
# jobs run inline in the request that asks for them.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or ""
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL) or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
# A job's message is acknowledged only when it finished, and given back when its worker dies, so a
# killed worker's job runs again elsewhere; a message no worker acknowledged within the visibility
# timeout goes back to the queue (the job's own writes are one transaction, so a rerun is safe).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("JOB_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "tracker") or "tracker"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A running job's worker writes a heartbeat; a job silent longer than this is taken as lost and run
# again (or failed after JOB_MAX_ATTEMPTS).
JOB_HEARTBEAT_TIMEOUT = env_int("JOB_HEARTBEAT_TIMEOUT", 300)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
# Result files (exports) are kept this many hours, then refused and deleted.
JOB_RESULT_TTL_HOURS = env_int("JOB_RESULT_TTL_HOURS", 24)
# Work above these sizes answers 202 with a job instead of running inside the request.
IMPORT_JOB_THRESHOLD_BYTES = env_int("IMPORT_JOB_THRESHOLD_BYTES", 2 * 1024 * 1024)
EXPORT_JOB_THRESHOLD_ROWS = env_int("EXPORT_JOB_THRESHOLD_ROWS", 50_000)
VERIFY_JOB_THRESHOLD_ENTRIES = env_int("VERIFY_JOB_THRESHOLD_ENTRIES", 20_000)
# ~5 s per 10,000 holdings on PostgreSQL here (make bench, writes): a province's month is a job.
SUBSIDY_RUN_JOB_THRESHOLD = env_int("SUBSIDY_RUN_JOB_THRESHOLD", 20_000)
