"""Uploads: resumable chunked uploads, the disk budget they reserve, and the cap on one-shot upload bodies."""
