"""`python -m triage_app.serve <daphne arguments>`: daphne, with an access log that shows
no tracking code (triage_app.logs). The arguments are daphne's own."""
from __future__ import annotations

from daphne import cli

from triage_app.logs import RedactingAccessLog


def main() -> None:
    # daphne's CLI builds its access log from this name; it has no option for another class.
    cli.AccessLogGenerator = RedactingAccessLog
    cli.CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
