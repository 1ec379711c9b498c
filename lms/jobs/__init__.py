"""Background jobs for long imports: the table's rows, the thread or worker loop that runs them,
and the progress and result pages (lms/jobs/services.py explains the design)."""
