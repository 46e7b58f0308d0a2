"""``python -m consumer``: one replica; scale out by starting more (one group, many partitions)."""

import sys

from consumer.main import main

if __name__ == "__main__":
    sys.exit(main())
