"""Submissions stored, queued on Celery, graded exactly once: models, queue, tasks, reaper.

Imports flow web -> worker -> grader -> reference; nothing in grader imports this package.
"""
