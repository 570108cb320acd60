"""Photos in Google Drive: link parsing (links.py), the Drive API v3 client (client.py) and the
metadata cache that keeps planning at O(1) Drive requests per sync (sources.py)."""
