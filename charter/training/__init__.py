"""Training: modules, their quizzes, and the practice round on real past questions.

Every write locks the person's standing row first (so one person's training actions run
one at a time), changes the rows and records a charter event, in one transaction. Passing
the last required module calls :func:`charter.standing.record_training_passed`.

Practice never talks to X: it reads the sandbox's corpus files from disk and stores the
person's answer for a supervisor to grade. ``charter`` must not import ``helpdesk``, so the
corpus is read by path (``settings.PRACTICE_CORPUS_DIR``, the sandbox's data folder).

The parts: ``base`` (the errors, the lock on the person's standing), ``quiz`` (modules,
attempts, scoring) and ``practice`` (the corpus, answers, grading).
"""
