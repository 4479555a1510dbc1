#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    # manage.py is the developer's tool: without configuration it runs in DEBUG (embedded SQLite,
    # development keys). Production sets DEBUG=false and its secrets explicitly; the WSGI entry
    # point (gunicorn) has no such default and refuses to start without them.
    os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
