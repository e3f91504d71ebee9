"""gunicorn settings for Ticket Net (see docs/deploy.md). Copy to /etc/ticketnet/gunicorn.conf.py, then:

    gunicorn -c /etc/ticketnet/gunicorn.conf.py 'portfolio:create_app()'

The application reads its own settings from TICKETNET_* environment variables (ticketnet.env).
"""

import os

# Only the reverse proxy talks to gunicorn: listen on the loopback interface.
bind = os.environ.get("TICKETNET_BIND", "127.0.0.1:8000")

# Threads suit an application that waits on PostgreSQL. Each worker has its own pool of database
# connections (up to 15): workers x 15 must stay under PostgreSQL's max_connections (100 by default).
worker_class = "gthread"
workers = int(os.environ.get("TICKETNET_WORKERS", "3"))
threads = int(os.environ.get("TICKETNET_THREADS", "4"))

# A PDF export may take a while on a slow machine; a stuck request is stopped after this.
timeout = 60
graceful_timeout = 30
keepalive = 5

# Restart each worker now and then, so that a slow leak never grows.
max_requests = 2000
max_requests_jitter = 200

# Logs. Ticket Net writes its own line per request (method, route, status, duration, request id),
# without addresses, query strings or names: gunicorn's access log, which has them, stays off.
# errorlog "-" is stderr: journald under systemd. For a file, see "Logs" in docs/deploy.md.
accesslog = None
errorlog = os.environ.get("TICKETNET_ERRORLOG", "-")
loglevel = "info"
capture_output = True

proc_name = "ticketnet"
