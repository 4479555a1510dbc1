"""`make load`: the service under a bureau's day of requests, and under a database restart, losing
nothing it acknowledged (see __main__.py)."""
