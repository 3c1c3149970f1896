# The Celery app is imported by the task modules that use it (and found by `celery -A
# bpij` as bpij.celery), not here: importing Celery costs a management command like
# check_files a third of a second of start-up.
