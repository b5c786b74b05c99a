"""``python -m wattwise``: the same as the ``wattwise`` command."""

from wattwise.cli import main

if __name__ == "__main__":
    main()
