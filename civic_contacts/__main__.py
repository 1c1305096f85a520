"""`python -m civic_contacts` runs the command line."""

from civic_contacts.cli import main

main()
