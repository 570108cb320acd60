"""`python worker.py [--queues cpu,gpu] [--url REDIS_URL]`: an RQ worker for vitrina-sync."""

import sys

from vitrina_sync.worker import main

if __name__ == "__main__":
    sys.exit(main())
