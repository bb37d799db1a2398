"""``python -m raceday.cli``."""

from raceday.cli import main

main()
